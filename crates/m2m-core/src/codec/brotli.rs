//! Brotli (`#BR|<base64>`), the session framing `#M2M[v3.0]|DATA:<base64>`,
//! and the deprecated zlib framing `#M2M[v2.0]|DATA:<base64>` (decode only).
//!
//! Decompression is bounded: output is produced in chunks and stops with
//! [`Error::ContentTooLarge`] as soon as it would exceed the limit, so a
//! compression bomb costs at most the limit in memory and the time to produce
//! it.

use alloc_stdlib::StandardAlloc;

use super::recycle::Recycler;
use crate::error::{Error, Result};
use crate::limits::MAX_DECOMPRESSED_BYTES;

/// Default Brotli quality: fast, and within a few percent of the best ratio on
/// chat payloads (the spec asks for 4–6).
pub const DEFAULT_QUALITY: u32 = 5;

/// Largest window (log2 of bytes) the encoder uses: 4 MiB. Smaller inputs get
/// the smallest window that holds them, as C Brotli's one-shot encoder does,
/// which saves allocating and clearing tables sized for 4 MiB.
const MAX_LG_WINDOW: u32 = 22;
const MIN_LG_WINDOW: u32 = 18;

pub(super) fn window_for(len: usize) -> u32 {
    let mut lgwin = MIN_LG_WINDOW;
    while lgwin < MAX_LG_WINDOW && (1usize << lgwin) - 16 < len {
        lgwin += 1;
    }
    lgwin
}

/// Compresses bytes with Brotli at `quality` (0–11), in one pass over the
/// whole input into a buffer of the worst-case size. The encoder's large
/// tables are recycled between calls on the same thread (see
/// `codec::recycle`); the output is the same as with freshly cleared ones.
///
/// # Errors
/// [`Error::InvalidOption`] for a quality above 11.
pub fn compress(data: &[u8], quality: u32) -> Result<Vec<u8>> {
    compress_window(data, quality, window_for(data.len()))
}

/// As [`compress`] with the window fixed at `lgwin` (10–24), whatever the
/// input's size: what a peer that always uses one window produces (the M2M
/// v1 frame's payloads use 22).
///
/// # Errors
/// [`Error::InvalidOption`] for a quality above 11 or a window outside 10–24.
pub fn compress_window(data: &[u8], quality: u32, lgwin: u32) -> Result<Vec<u8>> {
    compress_tuned(
        data,
        Tuning {
            quality,
            lgwin,
            literal_context_modeling: true,
        },
    )
}

/// As [`compress`], with `dictionary` as the stream's custom dictionary
/// (the bytes the stream may refer back to as if they preceded it; the
/// decoder needs the same bytes: [`decompress_with_dictionary`]). The window
/// holds the dictionary and the input.
///
/// # Errors
/// [`Error::InvalidOption`] for a quality above 11 or below 2 (qualities 0
/// and 1 ignore a custom dictionary).
pub fn compress_with_dictionary(data: &[u8], quality: u32, dictionary: &[u8]) -> Result<Vec<u8>> {
    if !(2..=11).contains(&quality) {
        return Err(Error::InvalidOption {
            option: "quality",
            detail: format!("Brotli with a dictionary needs quality 2 to 11, got {quality}"),
        });
    }
    let lgwin = window_for(data.len().saturating_add(dictionary.len()));
    compress_with(Recycler::new(quality), data, quality, lgwin, dictionary)
}

/// Encoder settings beyond [`compress`]'s quality: what auto chooses per
/// message size (`codec::auto::brotli_tuning_for`). Every setting only
/// changes how the encoder searches; any standard decoder reads the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Quality, 0–11.
    pub quality: u32,
    /// Window (log2 of bytes), 10–24.
    pub lgwin: u32,
    /// `false` sets `BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING`: at
    /// qualities 10–11 one literal context instead of a context map.
    pub literal_context_modeling: bool,
}

impl Tuning {
    /// [`compress`]'s settings at `quality` for `len` bytes.
    pub fn plain(quality: u32, len: usize) -> Self {
        Tuning {
            quality,
            lgwin: window_for(len),
            literal_context_modeling: true,
        }
    }
}

/// The smallest window (10–24) that holds `len` bytes.
pub fn smallest_window(len: usize) -> u32 {
    let mut lgwin = 10;
    while lgwin < 24 && (1usize << lgwin) - 16 < len {
        lgwin += 1;
    }
    lgwin
}

/// As [`compress`] with every setting of `tuning`.
///
/// # Errors
/// [`Error::InvalidOption`] for a quality above 11 or a window outside 10–24.
pub fn compress_tuned(data: &[u8], tuning: Tuning) -> Result<Vec<u8>> {
    let Tuning { quality, lgwin, .. } = tuning;
    if quality > 11 {
        return Err(Error::InvalidOption {
            option: "quality",
            detail: format!("Brotli quality must be 0 to 11, got {quality}"),
        });
    }
    if !(10..=24).contains(&lgwin) {
        return Err(Error::InvalidOption {
            option: "lgwin",
            detail: format!("the Brotli window must be 10 to 24, got {lgwin}"),
        });
    }
    compress_with_tuning(Recycler::new(quality), data, tuning, &[])
}

/// [`compress`] with the encoder's memory from `alloc`.
pub(super) fn compress_with<A: ::brotli::enc::BrotliAlloc>(
    alloc: A,
    data: &[u8],
    quality: u32,
    lgwin: u32,
    dictionary: &[u8],
) -> Result<Vec<u8>> {
    let tuning = Tuning {
        quality,
        lgwin,
        literal_context_modeling: true,
    };
    compress_with_tuning(alloc, data, tuning, dictionary)
}

/// [`compress_with`] with every setting of `tuning`.
pub(super) fn compress_with_tuning<A: ::brotli::enc::BrotliAlloc>(
    alloc: A,
    data: &[u8],
    tuning: Tuning,
    dictionary: &[u8],
) -> Result<Vec<u8>> {
    use ::brotli::enc::encode::{
        BrotliEncoderMaxCompressedSize, BrotliEncoderOperation, BrotliEncoderParameter,
        BrotliEncoderStateStruct,
    };
    let mut state = BrotliEncoderStateStruct::new(alloc);
    state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_QUALITY, tuning.quality);
    state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_LGWIN, tuning.lgwin);
    if !tuning.literal_context_modeling {
        state.set_parameter(
            BrotliEncoderParameter::BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING,
            1,
        );
    }
    state.set_parameter(
        BrotliEncoderParameter::BROTLI_PARAM_SIZE_HINT,
        data.len() as u32,
    );
    if !dictionary.is_empty() {
        state.set_custom_dictionary(dictionary.len(), dictionary);
    }
    let mut out = vec![0u8; BrotliEncoderMaxCompressedSize(data.len()).max(64)];
    let (mut available_in, mut in_offset) = (data.len(), 0);
    let (mut available_out, mut out_offset, mut total_out) = (out.len(), 0, Some(0));
    let finished = state.compress_stream(
        BrotliEncoderOperation::BROTLI_OPERATION_FINISH,
        &mut available_in,
        data,
        &mut in_offset,
        &mut available_out,
        &mut out,
        &mut out_offset,
        &mut total_out,
        &mut |_, _, _, _| (),
    ) && state.is_finished();
    if !finished {
        return Err(Error::CompressionFailed {
            detail: "the Brotli encoder did not finish in the worst-case output size".to_owned(),
        });
    }
    out.truncate(out_offset);
    Ok(out)
}

/// The allocator the `brotli` crate itself offers (`StandardAlloc`: every
/// buffer freshly zero-filled, freed when the call ends). Compressing with
/// it is the plain upstream call that the recycled path must equal.
#[cfg(test)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Fresh;

#[cfg(test)]
impl<T: Clone + Default> ::brotli::Allocator<T> for Fresh {
    type AllocatedMemory = <StandardAlloc as ::brotli::Allocator<T>>::AllocatedMemory;

    fn alloc_cell(&mut self, len: usize) -> Self::AllocatedMemory {
        ::brotli::Allocator::<T>::alloc_cell(&mut StandardAlloc::default(), len)
    }

    fn free_cell(&mut self, _data: Self::AllocatedMemory) {}
}

#[cfg(test)]
impl ::brotli::enc::BrotliAlloc for Fresh {}

/// [`compress`] as the plain upstream call does it (the crate's own
/// allocator), with the same parameters: the reference the recycled path's
/// output must equal byte for byte.
#[cfg(test)]
pub(crate) fn compress_upstream(data: &[u8], quality: u32) -> Vec<u8> {
    compress_with(Fresh, data, quality, window_for(data.len()), &[]).expect("the encoder finishes")
}

/// Decompresses one complete, standard (RFC 7932) Brotli stream, refusing to
/// produce more than [`MAX_DECOMPRESSED_BYTES`]. Large-window streams are
/// rejected, so the decoder's window stays within 16 MiB.
///
/// # Errors
/// [`Error::DecompressionFailed`] for a corrupt or truncated stream or data after
/// its end; [`Error::ContentTooLarge`] when the output would exceed the limit.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>> {
    decompress_with_dictionary(data, &[])
}

/// As [`decompress`], for a stream made with `dictionary` as its custom
/// dictionary ([`compress_with_dictionary`]). Another dictionary gives wrong
/// output or an error: callers check which dictionary a message names first.
///
/// # Errors
/// As [`decompress`].
pub fn decompress_with_dictionary(data: &[u8], dictionary: &[u8]) -> Result<Vec<u8>> {
    use ::brotli::{BrotliDecompressStream, BrotliResult, BrotliState};

    let mut state = if dictionary.is_empty() {
        BrotliState::new_strict(
            StandardAlloc::default(),
            StandardAlloc::default(),
            ZeroedCodes,
        )
    } else {
        let mut state = BrotliState::new_with_custom_dictionary(
            StandardAlloc::default(),
            StandardAlloc::default(),
            ZeroedCodes,
            dictionary.to_vec().into(),
        );
        // As new_strict: large-window streams are refused.
        state.large_window = false;
        state
    };
    let mut out = Vec::new();
    let mut chunk = vec![0u8; chunk_len(data.len())];
    let (mut available_in, mut input_offset, mut total_out) = (data.len(), 0, 0);
    loop {
        let (mut available_out, mut output_offset) = (chunk.len(), 0);
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            data,
            &mut available_out,
            &mut output_offset,
            &mut chunk,
            &mut total_out,
            &mut state,
        );
        push_bounded(&mut out, &chunk[..output_offset])?;
        match result {
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultSuccess if input_offset == data.len() => return Ok(out),
            BrotliResult::ResultSuccess => {
                return Err(failed("Brotli", "data follows the end of the stream"))
            }
            BrotliResult::NeedsMoreInput => {
                return Err(failed("Brotli", "the stream is truncated"))
            }
            BrotliResult::ResultFailure => return Err(failed("Brotli", "the stream is corrupt")),
        }
    }
}

/// Inflates a zlib stream (the deprecated `#M2M[v2.0]` framing), bounded like
/// [`decompress`].
///
/// # Errors
/// As [`decompress`].
pub fn inflate_zlib(data: &[u8]) -> Result<Vec<u8>> {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; chunk_len(data.len())];
    let mut input = data;
    loop {
        let res = inflate(&mut state, input, &mut chunk, MZFlush::None);
        input = &input[res.bytes_consumed..];
        push_bounded(&mut out, &chunk[..res.bytes_written])?;
        match res.status {
            Ok(MZStatus::StreamEnd) => break,
            Ok(_) if res.bytes_consumed == 0 && res.bytes_written == 0 => {
                return Err(failed("zlib", "the stream is truncated"));
            }
            Ok(_) => {}
            Err(MZError::Buf) => return Err(failed("zlib", "the stream is truncated")),
            Err(e) => return Err(failed("zlib", &format!("{e:?}"))),
        }
    }
    if !input.is_empty() {
        return Err(failed("zlib", "data follows the end of the stream"));
    }
    Ok(out)
}

/// The decoder's allocator for Huffman table entries: zero-filled memory from
/// the system allocator (`calloc`), where `StandardAlloc` writes each entry's
/// default one at a time, which is most of the cost of decoding a message of
/// a few hundred bytes.
struct ZeroedCodes;

/// Huffman table entries from [`ZeroedCodes`].
#[derive(Default)]
struct Codes(Vec<::brotli::HuffmanCode>);

impl ::brotli::SliceWrapper<::brotli::HuffmanCode> for Codes {
    fn slice(&self) -> &[::brotli::HuffmanCode] {
        &self.0
    }
}

impl ::brotli::SliceWrapperMut<::brotli::HuffmanCode> for Codes {
    fn slice_mut(&mut self) -> &mut [::brotli::HuffmanCode] {
        &mut self.0
    }
}

impl ::brotli::Allocator<::brotli::HuffmanCode> for ZeroedCodes {
    type AllocatedMemory = Codes;

    fn alloc_cell(&mut self, len: usize) -> Codes {
        use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
        if len == 0 {
            return Codes::default();
        }
        let layout = Layout::array::<::brotli::HuffmanCode>(len).expect("a table fits in memory");
        // SAFETY: the layout is of `len` entries (non-zero size); a null
        // result is handled. `HuffmanCode` is `#[repr(C)] { value: u16, bits:
        // u8 }`, for which all-zero bytes are a valid value, and the one its
        // `Default` gives (value 0, bits 0). The Vec takes the allocation
        // with the layout it was made with.
        unsafe {
            let ptr = alloc_zeroed(layout).cast::<::brotli::HuffmanCode>();
            if ptr.is_null() {
                handle_alloc_error(layout);
            }
            Codes(Vec::from_raw_parts(ptr, len, len))
        }
    }

    fn free_cell(&mut self, _cell: Codes) {}
}

/// The output chunk for decompressing `input_len` bytes: large enough for a
/// typical ratio in one or two rounds, and small for small messages (the
/// chunk is cleared on every call).
fn chunk_len(input_len: usize) -> usize {
    input_len.saturating_mul(8).clamp(1024, 64 * 1024)
}

fn failed(format: &str, detail: &str) -> Error {
    Error::DecompressionFailed {
        detail: format!("{format}: {detail}"),
    }
}

fn push_bounded(out: &mut Vec<u8>, chunk: &[u8]) -> Result<()> {
    if out.len() + chunk.len() > MAX_DECOMPRESSED_BYTES {
        return Err(Error::ContentTooLarge {
            limit: "decompressed size",
            max: MAX_DECOMPRESSED_BYTES,
            actual: out.len() + chunk.len(),
        });
    }
    out.extend_from_slice(chunk);
    Ok(())
}
