//! The readable part of an M2M v1 frame: the 20-byte fixed header and the
//! routing (request) or response header after it, taken from the JSON at
//! encode time and parsed back without touching the payload.

use serde_json::Value;

use super::cost;
use crate::error::{Error, Result};

/// Size of the fixed header.
pub const FIXED_LEN: usize = 20;

/// Longest model name or response id a header can carry (one length byte).
pub const MAX_NAME_BYTES: usize = 255;

/// The kind of body a frame carries (fixed header byte 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// 0x01, a chat completion request.
    Request,
    /// 0x02, a chat completion response.
    Response,
    /// 0x03, a stream chunk.
    Stream,
    /// 0x04, an embedding request.
    EmbeddingRequest,
    /// 0x05, an embedding response.
    EmbeddingResponse,
    /// 0x10, an error response.
    Error,
    /// 0xFE, an extension.
    Custom,
    /// Any other byte.
    Unknown(u8),
}

impl Schema {
    /// The schema of a header byte.
    pub fn from_byte(byte: u8) -> Schema {
        match byte {
            0x01 => Schema::Request,
            0x02 => Schema::Response,
            0x03 => Schema::Stream,
            0x04 => Schema::EmbeddingRequest,
            0x05 => Schema::EmbeddingResponse,
            0x10 => Schema::Error,
            0xFE => Schema::Custom,
            other => Schema::Unknown(other),
        }
    }

    /// Its header byte.
    pub fn byte(self) -> u8 {
        match self {
            Schema::Request => 0x01,
            Schema::Response => 0x02,
            Schema::Stream => 0x03,
            Schema::EmbeddingRequest => 0x04,
            Schema::EmbeddingResponse => 0x05,
            Schema::Error => 0x10,
            Schema::Custom => 0xFE,
            Schema::Unknown(b) => b,
        }
    }

    /// Its API name (`request`, `response`, `stream`, `embedding-request`,
    /// `embedding-response`, `error`, `custom`, `unknown`).
    pub fn name(self) -> &'static str {
        match self {
            Schema::Request => "request",
            Schema::Response => "response",
            Schema::Stream => "stream",
            Schema::EmbeddingRequest => "embedding-request",
            Schema::EmbeddingResponse => "embedding-response",
            Schema::Error => "error",
            Schema::Custom => "custom",
            Schema::Unknown(_) => "unknown",
        }
    }

    fn has_routing_header(self) -> bool {
        matches!(self, Schema::Request | Schema::EmbeddingRequest)
    }

    fn has_response_header(self) -> bool {
        matches!(
            self,
            Schema::Response | Schema::EmbeddingResponse | Schema::Error
        )
    }
}

/// The protection of a frame (fixed header byte 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityMode {
    /// 0x00: CRC only.
    None,
    /// 0x01: HMAC-SHA256 tag over the frame.
    Hmac,
    /// 0x02: ChaCha20-Poly1305, the headers as associated data.
    Aead,
}

impl SecurityMode {
    /// The mode of a header byte. Unlike the reference (which reads any
    /// unknown byte as none), an unknown byte is an error: a frame must not
    /// be able to switch its own checks off.
    ///
    /// # Errors
    /// [`Error::InvalidFrame`] for a byte other than 0, 1 or 2.
    pub fn from_byte(byte: u8) -> Result<SecurityMode> {
        match byte {
            0 => Ok(SecurityMode::None),
            1 => Ok(SecurityMode::Hmac),
            2 => Ok(SecurityMode::Aead),
            other => Err(invalid(format!("unknown security byte {other:#04x}"))),
        }
    }

    /// Its header byte.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// Its API name: `none`, `hmac`, `aead`.
    pub fn name(self) -> &'static str {
        match self {
            SecurityMode::None => "none",
            SecurityMode::Hmac => "hmac",
            SecurityMode::Aead => "aead",
        }
    }
}

/// Request flag names, bit 0 first (bit 15 is reserved).
pub const REQUEST_FLAGS: [&str; 15] = [
    "HAS_SYSTEM_PROMPT",
    "HAS_TOOLS",
    "HAS_TOOL_CHOICE",
    "HAS_IMAGES",
    "STREAM_REQUESTED",
    "HAS_RESPONSE_FORMAT",
    "HAS_MAX_TOKENS",
    "HAS_REASONING_EFFORT",
    "HAS_SERVICE_TIER",
    "HAS_SEED",
    "HAS_LOGPROBS",
    "HAS_USER_ID",
    "HAS_TEMPERATURE",
    "HAS_TOP_P",
    "HAS_STOP",
];

/// Response flag names, bit 0 first (bits 8-15 are reserved).
pub const RESPONSE_FLAGS: [&str; 8] = [
    "HAS_TOOL_CALLS",
    "HAS_REFUSAL",
    "CONTENT_FILTERED",
    "HAS_USAGE",
    "TRUNCATED",
    "HAS_CACHED_TOKENS",
    "HAS_REASONING_TOKENS",
    "HAS_COST_ESTIMATE",
];

/// Top-level request keys whose mere presence sets a flag, with the bit.
const PRESENCE_FLAGS: [(&str, u16); 15] = [
    ("tools", 1),
    ("functions", 1),
    ("tool_choice", 2),
    ("function_call", 2),
    ("response_format", 5),
    ("max_tokens", 6),
    ("max_completion_tokens", 6),
    ("reasoning_effort", 7),
    ("service_tier", 8),
    ("seed", 9),
    ("logprobs", 10),
    ("user", 11),
    ("temperature", 12),
    ("top_p", 13),
    ("stop", 14),
];
const REQ_SYSTEM: u16 = 1 << 0;
const REQ_IMAGES: u16 = 1 << 3;
const REQ_STREAM: u16 = 1 << 4;
const REQ_MAX_TOKENS: u16 = 1 << 6;
const RESP_TOOL_CALLS: u16 = 1 << 0;
const RESP_REFUSAL: u16 = 1 << 1;
const RESP_FILTERED: u16 = 1 << 2;
const RESP_USAGE: u16 = 1 << 3;
const RESP_TRUNCATED: u16 = 1 << 4;
const RESP_CACHED: u16 = 1 << 5;
const RESP_REASONING: u16 = 1 << 6;
const RESP_COST: u16 = 1 << 7;

/// Common flag bit 0 (bit 24 of the flags word): the payload is Brotli.
pub const COMPRESSED: u8 = 1;

/// The completion-token guess of a request's cost estimate without `max_tokens`.
const DEFAULT_COMPLETION_TOKENS: u32 = 500;

/// A message role as a routing header packs it (2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 0: `system` or `developer`.
    System,
    /// 1: `user`.
    User,
    /// 2: `assistant`.
    Assistant,
    /// 3: `tool`.
    Tool,
}

impl Role {
    fn from_json(role: &str) -> Option<Role> {
        match role {
            "system" | "developer" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "tool" => Some(Role::Tool),
            _ => None,
        }
    }

    fn from_bits(bits: u8) -> Role {
        [Role::System, Role::User, Role::Assistant, Role::Tool][usize::from(bits & 3)]
    }

    /// Its API name: `system`, `user`, `assistant`, `tool`.
    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// Why a response stopped (1 byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// 0x00 `stop`.
    Stop,
    /// 0x01 `length`.
    Length,
    /// 0x02 `tool_calls`.
    ToolCalls,
    /// 0x03 `content_filter`.
    ContentFilter,
    /// 0xFF: anything else, or none.
    Unknown,
}

impl FinishReason {
    const ALL: [(FinishReason, u8, &'static str); 4] = [
        (FinishReason::Stop, 0, "stop"),
        (FinishReason::Length, 1, "length"),
        (FinishReason::ToolCalls, 2, "tool_calls"),
        (FinishReason::ContentFilter, 3, "content_filter"),
    ];

    fn from_json(reason: &str) -> FinishReason {
        Self::ALL
            .iter()
            .find(|(_, _, name)| *name == reason)
            .map_or(FinishReason::Unknown, |r| r.0)
    }

    fn from_byte(byte: u8) -> FinishReason {
        Self::ALL
            .iter()
            .find(|(_, b, _)| *b == byte)
            .map_or(FinishReason::Unknown, |r| r.0)
    }

    fn byte(self) -> u8 {
        Self::ALL
            .iter()
            .find(|(r, _, _)| *r == self)
            .map_or(0xFF, |r| r.1)
    }

    /// Its API name (`stop`, `length`, `tool_calls`, `content_filter`), or
    /// `None` for an unknown reason.
    pub fn name(self) -> Option<&'static str> {
        Self::ALL.iter().find(|(r, _, _)| *r == self).map(|r| r.2)
    }
}

/// The routing header of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// `model`, or empty.
    pub model: String,
    /// The number of `messages`.
    pub msg_count: u32,
    /// The roles of the messages whose role is one of the four known ones.
    pub roles: Vec<Role>,
    /// Total UTF-8 bytes of the messages' text content (wraps at 2^32, as
    /// in the reference).
    pub content_hint: u32,
    /// `max_tokens` (or `max_completion_tokens`) when given as an integer.
    pub max_tokens: Option<u32>,
    /// The estimated cost in US dollars.
    pub est_cost_usd: Option<f32>,
}

/// The response header of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseInfo {
    /// `id`, or empty.
    pub id: String,
    /// `model`, or empty.
    pub model: String,
    /// `choices[0].finish_reason`.
    pub finish_reason: FinishReason,
    /// `usage.prompt_tokens`, or 0.
    pub prompt_tokens: u32,
    /// `usage.completion_tokens`, or 0.
    pub completion_tokens: u32,
    /// `usage.prompt_tokens_details.cached_tokens` when above 0.
    pub cached_tokens: Option<u32>,
    /// `usage.completion_tokens_details.reasoning_tokens` when above 0.
    pub reasoning_tokens: Option<u32>,
    /// The estimated cost in US dollars (when the response has usage).
    pub est_cost_usd: Option<f32>,
}

/// The variable header after the fixed one.
#[derive(Debug, Clone, PartialEq)]
pub enum Variable {
    /// Of a request or embedding request.
    Routing(Routing),
    /// Of a response, embedding response or error.
    Response(ResponseInfo),
    /// Of any other schema (its bytes are skipped).
    Opaque,
}

/// Everything a frame says about itself before its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Fixed header byte 2.
    pub schema: Schema,
    /// Fixed header byte 3.
    pub security: SecurityMode,
    /// The 16 request or response flag bits.
    pub flags: u16,
    /// The common flag bits ([`COMPRESSED`], ...).
    pub common: u8,
    /// Length of fixed plus variable header.
    pub header_len: usize,
    /// The routing or response header.
    pub variable: Variable,
}

impl Header {
    /// Names of the set request or response flags (bits without a name, or
    /// flags of a schema with neither, are left out).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let names: &[&'static str] = if self.schema.has_routing_header() {
            &REQUEST_FLAGS
        } else if self.schema.has_response_header() {
            &RESPONSE_FLAGS
        } else {
            &[]
        };
        names
            .iter()
            .enumerate()
            .filter(|(bit, _)| self.flags & (1 << bit) != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// True when the payload is Brotli.
    pub fn compressed(&self) -> bool {
        self.common & COMPRESSED != 0
    }

    /// The header as the JSON object the bindings hand to JavaScript:
    /// `{ version, schema, security, flags: [name], compressed, headerBytes }`
    /// plus, for a request, `model, messageCount, roles, contentBytes,
    /// maxTokens, costEstimate`, and for a response, `id, model,
    /// finishReason, promptTokens, completionTokens, cachedTokens,
    /// reasoningTokens, costEstimate` (absent values are `null`; the cost is
    /// the frame's `f32` widened exactly).
    pub fn to_json(&self) -> String {
        use serde_json::json;
        let mut out = json!({
            "version": 1,
            "schema": self.schema.name(),
            "security": self.security.name(),
            "flags": self.flag_names(),
            "compressed": self.compressed(),
            "headerBytes": self.header_len,
        });
        let fields = match &self.variable {
            Variable::Routing(r) => json!({
                "model": r.model,
                "messageCount": r.msg_count,
                "roles": r.roles.iter().map(|r| r.name()).collect::<Vec<_>>(),
                "contentBytes": r.content_hint,
                "maxTokens": r.max_tokens,
                "costEstimate": r.est_cost_usd.map(f64::from),
            }),
            Variable::Response(r) => json!({
                "id": r.id,
                "model": r.model,
                "finishReason": r.finish_reason.name(),
                "promptTokens": r.prompt_tokens,
                "completionTokens": r.completion_tokens,
                "cachedTokens": r.cached_tokens,
                "reasoningTokens": r.reasoning_tokens,
                "costEstimate": r.est_cost_usd.map(f64::from),
            }),
            Variable::Opaque => json!({}),
        };
        if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
            out.extend(fields);
        }
        out.to_string()
    }
}

fn invalid(detail: String) -> Error {
    Error::InvalidFrame { detail }
}

/// Parses `text` and builds the header the reference would write for it, with
/// `security` in byte 3 and the compression flag as given. Requests are
/// bodies with both `messages` and `model`; responses have `choices` or an
/// `id` starting with `chatcmpl-`; anything else is read as a request.
///
/// # Errors
/// [`Error::InvalidJson`] when `text` is not JSON; [`Error::ContentTooLarge`]
/// for a model name or id over [`MAX_NAME_BYTES`] (the reference wraps its
/// length byte, making a frame it cannot read back).
pub fn from_json(text: &str, security: SecurityMode, compressed: bool) -> Result<Header> {
    let json: Value = serde_json::from_str(text).map_err(|e| Error::InvalidJson {
        detail: e.to_string(),
    })?;
    let is_request = json.get("messages").is_some() && json.get("model").is_some();
    let is_response = !is_request
        && (json.get("choices").is_some()
            || json
                .get("id")
                .and_then(Value::as_str)
                .map_or(false, |id| id.starts_with("chatcmpl-")));
    let (schema, flags, variable) = if is_response {
        let (flags, info) = response_from_json(&json);
        check_name("response id", &info.id)?;
        check_name("model name", &info.model)?;
        (Schema::Response, flags, Variable::Response(info))
    } else {
        let (flags, routing) = routing_from_json(&json);
        check_name("model name", &routing.model)?;
        (Schema::Request, flags, Variable::Routing(routing))
    };
    let mut header = Header {
        schema,
        security,
        flags,
        common: if compressed { COMPRESSED } else { 0 },
        header_len: 0,
        variable,
    };
    header.header_len = FIXED_LEN + variable_bytes(&header).len();
    Ok(header)
}

fn check_name(limit: &'static str, name: &str) -> Result<()> {
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::ContentTooLarge {
            limit,
            max: MAX_NAME_BYTES,
            actual: name.len(),
        });
    }
    Ok(())
}

fn str_of<'a>(json: &'a Value, key: &str) -> &'a str {
    json.get(key).and_then(Value::as_str).unwrap_or("")
}

fn routing_from_json(json: &Value) -> (u16, Routing) {
    let mut flags = 0u16;
    let mut roles = Vec::new();
    let mut content_hint = 0u32;
    let messages = json.get("messages").and_then(Value::as_array);
    for msg in messages.into_iter().flatten() {
        if let Some(role) = msg.get("role").and_then(Value::as_str) {
            if let Some(r) = Role::from_json(role) {
                if r == Role::System {
                    flags |= REQ_SYSTEM;
                }
                roles.push(r);
            }
        }
        match msg.get("content") {
            Some(Value::String(s)) => content_hint = content_hint.wrapping_add(s.len() as u32),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if let Some(text) = part.get("text").and_then(Value::as_str) {
                        content_hint = content_hint.wrapping_add(text.len() as u32);
                    }
                    if part.get("type").and_then(Value::as_str) == Some("image_url") {
                        flags |= REQ_IMAGES;
                    }
                }
            }
            _ => {}
        }
    }
    for (key, bit) in PRESENCE_FLAGS {
        if json.get(key).is_some() {
            flags |= 1 << bit;
        }
    }
    if json.get("stream").and_then(Value::as_bool) == Some(true) {
        flags |= REQ_STREAM;
    }
    let max_tokens = if flags & REQ_MAX_TOKENS != 0 {
        json.get("max_tokens")
            .or_else(|| json.get("max_completion_tokens"))
            .and_then(Value::as_u64)
            .map(|v| v as u32)
    } else {
        None
    };
    let model = str_of(json, "model").to_owned();
    let est = cost::estimate(
        &model,
        content_hint / 4,
        max_tokens.unwrap_or(DEFAULT_COMPLETION_TOKENS),
    );
    let routing = Routing {
        model,
        msg_count: messages.map_or(0, |m| m.len() as u32),
        roles,
        content_hint,
        max_tokens,
        est_cost_usd: Some(est),
    };
    (flags, routing)
}

fn response_from_json(json: &Value) -> (u16, ResponseInfo) {
    let mut flags = 0u16;
    let first = json
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let finish = first
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str);
    if let Some(choice) = first {
        let message = choice.get("message");
        if message.and_then(|m| m.get("tool_calls")).is_some() {
            flags |= RESP_TOOL_CALLS;
        }
        if message
            .and_then(|m| m.get("refusal"))
            .and_then(Value::as_str)
            .is_some()
        {
            flags |= RESP_REFUSAL;
        }
        match finish {
            Some("content_filter") => flags |= RESP_FILTERED,
            Some("length") => flags |= RESP_TRUNCATED,
            _ => {}
        }
    }
    let usage = json.get("usage");
    let count = |path: &[&str]| -> Option<u64> {
        let mut v = usage?;
        for key in path {
            v = v.get(key)?;
        }
        v.as_u64()
    };
    let cached = count(&["prompt_tokens_details", "cached_tokens"]).filter(|&n| n > 0);
    let reasoning = count(&["completion_tokens_details", "reasoning_tokens"]).filter(|&n| n > 0);
    if usage.is_some() {
        flags |= RESP_USAGE | RESP_COST;
        if cached.is_some() {
            flags |= RESP_CACHED;
        }
        if reasoning.is_some() {
            flags |= RESP_REASONING;
        }
    }
    let model = str_of(json, "model").to_owned();
    let prompt_tokens = count(&["prompt_tokens"]).unwrap_or(0) as u32;
    let completion_tokens = count(&["completion_tokens"]).unwrap_or(0) as u32;
    let info = ResponseInfo {
        id: str_of(json, "id").to_owned(),
        est_cost_usd: usage.map(|_| cost::estimate(&model, prompt_tokens, completion_tokens)),
        model,
        finish_reason: finish.map_or(FinishReason::Unknown, FinishReason::from_json),
        prompt_tokens,
        completion_tokens,
        cached_tokens: cached.map(|n| n as u32),
        reasoning_tokens: reasoning.map(|n| n as u32),
    };
    (flags, info)
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    // Checked against MAX_NAME_BYTES by `from_json`.
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

fn variable_bytes(header: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match &header.variable {
        Variable::Routing(r) => {
            push_name(&mut out, &r.model);
            push_varint(&mut out, u64::from(r.msg_count));
            let mut packed = vec![0u8; (r.roles.len() * 2 + 7) / 8];
            for (i, role) in r.roles.iter().enumerate() {
                packed[i / 4] |= (*role as u8) << (2 * (i % 4));
            }
            out.extend_from_slice(&packed);
            push_varint(&mut out, u64::from(r.content_hint));
            if let (true, Some(max)) = (header.flags & REQ_MAX_TOKENS != 0, r.max_tokens) {
                push_varint(&mut out, u64::from(max));
            }
            if let Some(cost) = r.est_cost_usd {
                out.extend_from_slice(&cost.to_le_bytes());
            }
        }
        Variable::Response(r) => {
            push_name(&mut out, &r.id);
            push_name(&mut out, &r.model);
            out.push(r.finish_reason.byte());
            push_varint(&mut out, u64::from(r.prompt_tokens));
            push_varint(&mut out, u64::from(r.completion_tokens));
            if header.flags & RESP_CACHED != 0 {
                push_varint(&mut out, u64::from(r.cached_tokens.unwrap_or(0)));
            }
            if header.flags & RESP_REASONING != 0 {
                push_varint(&mut out, u64::from(r.reasoning_tokens.unwrap_or(0)));
            }
            if let (true, Some(cost)) = (header.flags & RESP_COST != 0, r.est_cost_usd) {
                out.extend_from_slice(&cost.to_le_bytes());
            }
        }
        Variable::Opaque => {}
    }
    out
}

/// Writes the fixed and the variable header (`header_len` bytes).
pub fn write(header: &Header, out: &mut Vec<u8>) {
    let variable = variable_bytes(header);
    out.extend_from_slice(&((FIXED_LEN + variable.len()) as u16).to_le_bytes());
    out.push(header.schema.byte());
    out.push(header.security.byte());
    out.extend_from_slice(&header.flags.to_le_bytes());
    out.push(0);
    out.push(header.common);
    out.extend_from_slice(&[0u8; 12]);
    out.extend_from_slice(&variable);
}

/// A cursor over the variable header that fails with [`Error::InvalidFrame`]
/// instead of reading past it.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| invalid(format!("the header ends inside its {what}")))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn name(&mut self, what: &str) -> Result<String> {
        let len = usize::from(self.byte(what)?);
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| invalid(format!("its {what} is not UTF-8")))
    }

    /// A varint of up to 64 bits (non-minimal forms accepted, as the
    /// reference does), kept as the reference keeps it: truncated to 32 bits.
    fn varint(&mut self, what: &str) -> Result<u32> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            if shift >= 64 {
                return Err(invalid(format!("its {what} overflows 64 bits")));
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value as u32);
            }
            shift += 7;
        }
    }

    fn f32(&mut self, what: &str) -> Result<f32> {
        let b = self.take(4, what)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Reads the header at the start of frame bytes `f` (after the prefix).
///
/// The variable header is read within its `header_len` bounds. The reference
/// writes the roles of the messages with a known role only, but its reader
/// expects one per message, and writes no `max_tokens` when the flag is set
/// by a non-integer value; for such headers the layout that uses exactly
/// the header's bytes is taken (most roles first, `max_tokens` before none).
///
/// # Errors
/// [`Error::InvalidFrame`] for a frame shorter than its header, a
/// `header_len` below 20, an unknown security byte, or a variable header that
/// fits no layout.
pub fn parse(f: &[u8]) -> Result<Header> {
    if f.len() < FIXED_LEN {
        return Err(invalid(format!(
            "{} bytes is shorter than the {FIXED_LEN}-byte fixed header",
            f.len()
        )));
    }
    let header_len = usize::from(u16::from_le_bytes([f[0], f[1]]));
    if header_len < FIXED_LEN || header_len > f.len() {
        return Err(invalid(format!(
            "header length {header_len} is outside 20..={}",
            f.len()
        )));
    }
    let schema = Schema::from_byte(f[2]);
    let security = SecurityMode::from_byte(f[3])?;
    let flags = u16::from_le_bytes([f[4], f[5]]);
    let common = f[7];
    let bytes = &f[FIXED_LEN..header_len];
    let variable = if schema.has_routing_header() {
        Variable::Routing(parse_routing(bytes, flags)?)
    } else if schema.has_response_header() {
        Variable::Response(parse_response(bytes, flags)?)
    } else {
        Variable::Opaque
    };
    Ok(Header {
        schema,
        security,
        flags,
        common,
        header_len,
        variable,
    })
}

fn parse_routing(bytes: &[u8], flags: u16) -> Result<Routing> {
    let mut head = Reader { bytes, pos: 0 };
    let model = head.name("model name")?;
    let msg_count = head.varint("message count")?;
    let after_count = head.pos;
    // At most 4 roles per remaining byte.
    let most_roles = (msg_count as usize).min(4 * (bytes.len() - after_count));
    let max_flag = flags & REQ_MAX_TOKENS != 0;
    for role_bytes in (0..=(most_roles * 2 + 7) / 8).rev() {
        let role_count = most_roles.min(4 * role_bytes);
        for with_max in [max_flag, false] {
            let mut r = Reader {
                bytes,
                pos: after_count,
            };
            let attempt = (|| -> Result<Routing> {
                let packed = r.take(role_bytes, "roles")?;
                let roles = (0..role_count)
                    .map(|i| Role::from_bits(packed[i / 4] >> (2 * (i % 4))))
                    .collect();
                let content_hint = r.varint("content size")?;
                let max_tokens = if with_max {
                    Some(r.varint("max tokens")?)
                } else {
                    None
                };
                let est_cost_usd = Some(r.f32("cost estimate")?);
                Ok(Routing {
                    model: model.clone(),
                    msg_count,
                    roles,
                    content_hint,
                    max_tokens,
                    est_cost_usd,
                })
            })();
            if let (Ok(routing), true) = (attempt, r.at_end()) {
                return Ok(routing);
            }
        }
    }
    Err(invalid(
        "the routing header fits no layout of its message count".to_owned(),
    ))
}

fn parse_response(bytes: &[u8], flags: u16) -> Result<ResponseInfo> {
    let mut r = Reader { bytes, pos: 0 };
    let id = r.name("response id")?;
    let model = r.name("model name")?;
    let finish_reason = FinishReason::from_byte(r.byte("finish reason")?);
    let prompt_tokens = r.varint("prompt tokens")?;
    let completion_tokens = r.varint("completion tokens")?;
    let cached_tokens = if flags & RESP_CACHED != 0 {
        Some(r.varint("cached tokens")?)
    } else {
        None
    };
    let reasoning_tokens = if flags & RESP_REASONING != 0 {
        Some(r.varint("reasoning tokens")?)
    } else {
        None
    };
    let est_cost_usd = if flags & RESP_COST != 0 {
        Some(r.f32("cost estimate")?)
    } else {
        None
    };
    if !r.at_end() {
        return Err(invalid(
            "the response header is longer than its fields".to_owned(),
        ));
    }
    Ok(ResponseInfo {
        id,
        model,
        finish_reason,
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        reasoning_tokens,
        est_cost_usd,
    })
}
