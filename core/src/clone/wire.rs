//! V8 ValueSerializer tags and version numbers (wire-format doc §3).

pub(crate) const VERSION: u8 = 0xFF;
/// The version we write.
pub(crate) const LATEST_VERSION: u32 = 15;
/// The oldest version we read (the public V8 minimum without legacy mode).
pub(crate) const MIN_READ_VERSION: u32 = 13;
/// The newest version we read (16 only when every length fits in 32 bits).
pub(crate) const MAX_READ_VERSION: u32 = 16;

pub(crate) const PADDING: u8 = 0x00;
pub(crate) const VERIFY_OBJECT_COUNT: u8 = b'?';
pub(crate) const THE_HOLE: u8 = b'-';
pub(crate) const UNDEFINED: u8 = b'_';
pub(crate) const NULL: u8 = b'0';
pub(crate) const TRUE: u8 = b'T';
pub(crate) const FALSE: u8 = b'F';
pub(crate) const INT32: u8 = b'I';
pub(crate) const UINT32: u8 = b'U';
pub(crate) const DOUBLE: u8 = b'N';
pub(crate) const BIGINT: u8 = b'Z';
pub(crate) const UTF8_STRING: u8 = b'S';
pub(crate) const ONE_BYTE_STRING: u8 = b'"';
pub(crate) const TWO_BYTE_STRING: u8 = b'c';
pub(crate) const OBJECT_REFERENCE: u8 = b'^';
pub(crate) const BEGIN_JS_OBJECT: u8 = b'o';
pub(crate) const END_JS_OBJECT: u8 = b'{';
pub(crate) const BEGIN_SPARSE_JS_ARRAY: u8 = b'a';
pub(crate) const END_SPARSE_JS_ARRAY: u8 = b'@';
pub(crate) const BEGIN_DENSE_JS_ARRAY: u8 = b'A';
pub(crate) const END_DENSE_JS_ARRAY: u8 = b'$';
pub(crate) const DATE: u8 = b'D';
pub(crate) const TRUE_OBJECT: u8 = b'y';
pub(crate) const FALSE_OBJECT: u8 = b'x';
pub(crate) const NUMBER_OBJECT: u8 = b'n';
pub(crate) const BIGINT_OBJECT: u8 = b'z';
pub(crate) const STRING_OBJECT: u8 = b's';
pub(crate) const REGEXP: u8 = b'R';
pub(crate) const BEGIN_JS_MAP: u8 = b';';
pub(crate) const END_JS_MAP: u8 = b':';
pub(crate) const BEGIN_JS_SET: u8 = b'\'';
pub(crate) const END_JS_SET: u8 = b',';
pub(crate) const ARRAY_BUFFER: u8 = b'B';
pub(crate) const RESIZABLE_ARRAY_BUFFER: u8 = b'~';
pub(crate) const ARRAY_BUFFER_TRANSFER: u8 = b't';
pub(crate) const ARRAY_BUFFER_VIEW: u8 = b'V';
pub(crate) const SHARED_ARRAY_BUFFER: u8 = b'u';
pub(crate) const SHARED_OBJECT: u8 = b'p';
pub(crate) const WASM_MODULE_TRANSFER: u8 = b'w';
pub(crate) const WASM_MEMORY_TRANSFER: u8 = b'm';
pub(crate) const HOST_OBJECT: u8 = b'\\';
pub(crate) const ERROR: u8 = b'r';

/// Error sub-tags (§3.10).
pub(crate) const ERROR_MESSAGE: u8 = b'm';
pub(crate) const ERROR_STACK: u8 = b's';
pub(crate) const ERROR_CAUSE: u8 = b'c';
pub(crate) const ERROR_END: u8 = b'.';

/// View flag bits (v ≥ 14).
pub(crate) const VIEW_LENGTH_TRACKING: u32 = 1;
pub(crate) const VIEW_BACKED_BY_RAB: u32 = 2;
