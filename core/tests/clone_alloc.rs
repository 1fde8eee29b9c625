//! How much the decoder allocates: a counting global allocator (per thread, so parallel tests
//! do not mix) checks that a decoded graph costs one heap block per object or array that holds
//! anything, sized exactly, and no bytes beyond a fixed budget per record.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use webmessaging_core::clone::{decode, encode, Graph, Object, Value};

struct Counting;

thread_local! {
    /// Blocks allocated (reallocations included) and bytes requested on this thread.
    static COUNT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn note(bytes: usize) {
    let _ = COUNT.try_with(|c| {
        let (n, b) = c.get();
        c.set((n + 1, b + bytes));
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Blocks and bytes `f` allocates on this thread (what it returns is dropped after counting).
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, usize) {
    let (n0, b0) = COUNT.with(Cell::get);
    let out = f();
    let (n1, b1) = COUNT.with(Cell::get);
    drop(out);
    (n1 - n0, b1 - b0)
}

/// The benchmark's record: `{id, name, tags: [1, 2, 3]}`.
fn records(n: i32) -> Vec<u8> {
    let mut g = Graph::new();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let tags = g.add(Object::array([1, 2, 3]));
            let name = format!("name{i}");
            g.add(Object::object([
                ("id", Value::from(i)),
                ("name", name.into()),
                ("tags", tags.into()),
            ]))
            .into()
        })
        .collect();
    g.root = g.add(Object::array(items)).into();
    encode(&g).expect("encode")
}

#[test]
fn an_object_s_properties_are_one_exactly_sized_block() {
    // 1,000 objects of 20 properties: the wire gives the count only after them, so a vector
    // grown as they arrive would reallocate four times per object.
    let mut g = Graph::new();
    let items: Vec<Value> = (0..1_000)
        .map(|i| {
            let o = Object::object((0..20).map(|k| (format!("key{k}"), Value::from(i + k))));
            g.add(o).into()
        })
        .collect();
    g.root = g.add(Object::array(items)).into();
    let bytes = encode(&g).expect("encode");
    let (blocks, _) = allocations(|| decode(&bytes).expect("decode"));
    // One per object, one for the array's elements, and the reader's own few.
    assert!(
        blocks <= 1_000 + 1 + 16,
        "{blocks} blocks for 1,001 objects"
    );
}

#[test]
fn a_record_costs_two_blocks_and_a_bounded_number_of_bytes() {
    const N: usize = 10_000;
    let bytes = records(N as i32);
    let (blocks, allocated) = allocations(|| decode(&bytes).expect("decode"));
    // The object's properties and the array's elements; the strings are inline.
    assert!(blocks <= 2 * N + 8, "{blocks} blocks for {N} records");
    let per_record = allocated / N;
    // 390: no wire-id map while wire ids are arena ids (401 with a four-byte map always).
    assert!(per_record <= 395, "{per_record} bytes allocated per record");
}

#[test]
fn a_value_is_three_words_and_a_property_six() {
    // Every element and property holds one; a BigInt's sign lives in its magnitude's block.
    assert!(
        size_of::<Value>() <= 24,
        "Value is {} bytes",
        size_of::<Value>()
    );
    let prop = size_of::<(webmessaging_core::clone::JsString, Value)>();
    assert!(prop <= 48, "a property is {prop} bytes");
}

#[test]
#[cfg(target_pointer_width = "64")]
fn an_object_is_eight_words() {
    // A decoded graph is an array of these: the rare large variants (Error) are boxed.
    let size = size_of::<webmessaging_core::clone::Object>();
    assert!(size <= 64, "Object is {size} bytes");
}
