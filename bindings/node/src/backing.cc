// The V8 shim behind src/backing.rs: a transferred ArrayBuffer's backing store is moved, not
// copied. Node-API cannot take an ArrayBuffer's memory, so these few functions use V8's public
// API (the headers that ship with Node) the way Node's own worker MessagePort does when it
// transfers an ArrayBuffer to another thread: GetBackingStore() + Detach() on the sending side,
// ArrayBuffer::New(isolate, backing_store) on the receiving side.
//
// Why this is sound:
// - A napi_value is, in Node's implementation, a v8::Local<v8::Value> bit for bit (Node's
//   v8impl::V8LocalValueFromJsValue / JsValueFromV8LocalValue do the same memcpy). Every
//   function here runs inside a Node-API callback on the isolate's own thread, so the isolate
//   is entered (Isolate::GetCurrent) and a HandleScope is open: a Local made here lives in it,
//   exactly like any napi_value the callback returns.
// - A BackingStore is reference counted (std::shared_ptr) and may be released on any thread;
//   V8 and Node already share one between isolates of a process (worker transfer). Its memory
//   lives until the last reference is gone: the ArrayBuffer's, or ours (a heap-allocated
//   shared_ptr owned by a Rust value, released with wm_backing_release).
// - The stores this file makes over Rust memory (wm_backing_external) free it through a Rust
//   deleter that only drops a Send value, so they too may die on any thread, after any isolate.
// - Nothing here throws: exceptions are off, allocation failures return an error code, and
//   Detach is left to napi_detach_arraybuffer (which checks IsDetachable first).

#include <cstring>
#include <memory>
#include <new>

#include <js_native_api_types.h>
#include <v8.h>

namespace {

static_assert(sizeof(v8::Local<v8::Value>) == sizeof(napi_value),
              "a napi_value is a v8::Local<v8::Value>");

v8::Local<v8::Value> ToLocal(napi_value value) {
  v8::Local<v8::Value> local;
  std::memcpy(static_cast<void*>(&local), &value, sizeof value);
  return local;
}

napi_value FromLocal(v8::Local<v8::Value> local) {
  return reinterpret_cast<napi_value>(*local);
}

using Holder = std::shared_ptr<v8::BackingStore>;

}  // namespace

extern "C" {

// What wm_backing_take found.
enum WmTake {
  WM_TAKEN = 0,         // *holder, *data, *len are set; the buffer is not detached yet
  WM_NOT_BUFFER = 1,    // not an ArrayBuffer, or already detached
  WM_UNDETACHABLE = 2,  // V8 will not detach it (a WebAssembly.Memory's buffer)
  WM_RESIZABLE = 3,     // resizable by JS: the caller copies it instead
  WM_NO_MEMORY = 4,
};

// A new reference to the backing store of ArrayBuffer `value` (O(1), nothing copied), with its
// bytes. The caller detaches the buffer (napi_detach_arraybuffer) once the message is posted,
// so that the sender can no longer reach the memory, and releases the reference with
// wm_backing_release (or hands it to wm_backing_into_array_buffer).
int wm_backing_take(napi_value value, void** holder, void** data, size_t* len) noexcept {
  v8::Local<v8::Value> local = ToLocal(value);
  if (local.IsEmpty() || !local->IsArrayBuffer()) return WM_NOT_BUFFER;
  v8::Local<v8::ArrayBuffer> buffer = local.As<v8::ArrayBuffer>();
  if (buffer->WasDetached()) return WM_NOT_BUFFER;
  if (!buffer->IsDetachable()) return WM_UNDETACHABLE;
  Holder store = buffer->GetBackingStore();
  // A resizable buffer's length may change under us; it is rare enough to copy.
  if (store->IsResizableByUserJavaScript() || store->IsShared()) return WM_RESIZABLE;
  Holder* boxed = new (std::nothrow) Holder(std::move(store));
  if (boxed == nullptr) return WM_NO_MEMORY;
  *data = (*boxed)->Data();
  *len = (*boxed)->ByteLength();
  *holder = boxed;
  return WM_TAKEN;
}

// Drops a reference taken by wm_backing_take (on any thread).
void wm_backing_release(void* holder) noexcept {
  delete static_cast<Holder*>(holder);
}

// A new ArrayBuffer of the current isolate over the backing store `holder` refers to (O(1)),
// consuming `holder`; null when there is no current isolate (then `holder` is not consumed).
napi_value wm_backing_into_array_buffer(void* holder) noexcept {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  Holder* boxed = static_cast<Holder*>(holder);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(*boxed));
  delete boxed;
  return FromLocal(buffer);
}

// A new ArrayBuffer over `len` (> 0) bytes at `data`, owned by the Rust value `owner`:
// `deleter(data, len, owner)` runs when the last reference to the store is gone, on whichever
// thread that is. Null when there is no current isolate (nothing is taken over then).
napi_value wm_backing_external(void* data, size_t len, v8::BackingStore::DeleterCallback deleter,
                               void* owner) noexcept {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  std::shared_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(data, len, deleter, owner);
  return FromLocal(v8::ArrayBuffer::New(isolate, std::move(store)));
}

}  // extern "C"
