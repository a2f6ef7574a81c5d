// The API shared by the Node and the browser entry points.

export {
  type ChatMessage,
  type ChatTokenizer,
  countChatTokens,
  encodeChat,
  isKnownModel,
  isWithinTokenLimit,
} from './codec/chat.js';
export {
  ALGORITHMS,
  type Algorithm,
  type AlgorithmReport,
  type Analysis,
  analyze,
  type CompressOptions,
  type CompressResult,
  compress,
  compressAsync,
  compressBinary,
  type DecompressOptions,
  type DecompressResult,
  decompress,
  decompressAsync,
  decompressBinary,
  decompressDetailed,
  decompressDetailedAsync,
  type Profile,
} from './codec/codec.js';
export {
  createM2MFetch,
  decodeM2MResponse,
  isM2MBody,
  M2M_ACCEPT_HEADER,
  M2M_CONTENT_TYPE,
  M2M_DICTIONARIES_HEADER,
  M2M_EVENTS_HEADER,
  M2M_HISTORY_HEADER,
  M2M_ORIGINAL_TYPE_HEADER,
  type M2MFetchOptions,
} from './codec/fetch.js';
export {
  compressFrame,
  compressFrameBinary,
  decompressFrameBinary,
  type FrameInfo,
  type FrameSecurity,
  inspect,
  type RequestHeaderInfo,
  type ResponseHeaderInfo,
  type SecurityMode,
} from './codec/frame.js';
export {
  encodingForModel,
  estimateCost,
  findModel,
  MODELS,
  MODELS_AS_OF,
  type ModelInfo,
  modelInfo,
} from './codec/models.js';
export { compressSse, createSseCompressStream, createSseDecompressStream, decompressSse } from './codec/sse.js';
export type { Backend, BackendKind } from './core/backend.js';
export { ENCODINGS, type Encoding } from './core/encoding.js';
export { CORE_ERROR_CODES, M2MError } from './core/errors.js';
export {
  deriveSessionKeys,
  hkdfSha256,
  KeyHierarchy,
  type KeyPurpose,
  type SealMode,
  type SessionKeys,
  x25519KeyPair,
  x25519SessionKey,
} from './core/keys.js';
export { type CoreTables, coreTables, tokenNativeEncoding } from './core/tables.js';
export { countTokens, decode, type EncodeOptions, encode } from './core/tokenizer.js';
export {
  base64Decode,
  base64Encode,
  packTokenNative,
  packTokenNativeBinary,
  type TokenIds,
  unpackTokenNative,
  unpackTokenNativeBinary,
  varintDecode,
  varintEncode,
} from './core/wire.js';
export { scan, scanMessages } from './security/scanner.js';
export type { ScanOptions, ScanResult, Threat } from './security/types.js';
export { assertSafe } from './security/violation.js';
