//! `wm_value_equal`: deep structural equality of two values, for programs (and the tests of
//! cross-language round trips) that need to know whether a value came back unchanged.

use std::collections::HashMap;

use webmessaging_core::clone::{
    ArrayBufferView, Elements, Graph, JsString, Object, ObjectId, Value,
};

use super::{value_arg, with_graph, wm_value};
use crate::status::*;

/// The two graphs being compared and the correspondence of their objects found so far: a
/// bijection, so shared references and cycles must have the same shape on both sides.
struct Matcher<'g> {
    a: &'g Graph,
    b: &'g Graph,
    a_to_b: HashMap<ObjectId, ObjectId>,
    b_to_a: HashMap<ObjectId, ObjectId>,
    /// Object pairs matched but not yet compared (iterative: no recursion on deep values).
    todo: Vec<(ObjectId, ObjectId)>,
}

impl Matcher<'_> {
    /// Primitives by SameValue; objects by pairing them (compared later, once).
    fn values(&mut self, x: &Value, y: &Value) -> bool {
        match (x, y) {
            (Value::Object(i), Value::Object(j)) => self.pair(*i, *j),
            _ => x == y,
        }
    }

    fn pair(&mut self, i: ObjectId, j: ObjectId) -> bool {
        match (self.a_to_b.get(&i), self.b_to_a.get(&j)) {
            (Some(&bj), _) => bj == j,
            (None, Some(_)) => false,
            (None, None) => {
                self.a_to_b.insert(i, j);
                self.b_to_a.insert(j, i);
                self.todo.push((i, j));
                true
            }
        }
    }

    /// Own properties as a set (as `util.isDeepStrictEqual` reads them): same keys, equal values.
    fn properties(&mut self, p: &[(JsString, Value)], q: &[(JsString, Value)]) -> bool {
        p.len() == q.len()
            && p.iter()
                .all(|(k, v)| match q.iter().find(|(k2, _)| k2 == k) {
                    Some((_, w)) => self.values(v, w),
                    None => false,
                })
    }

    /// An array's present elements, by index, whichever way each side holds them (a dense
    /// array and a sparse one with every index present are the same array).
    fn elements(&mut self, x: &Elements, y: &Elements) -> bool {
        fn present(e: &Elements) -> Vec<(u32, &Value)> {
            match e {
                Elements::Dense(v) => v.iter().enumerate().map(|(i, v)| (i as u32, v)).collect(),
                Elements::Sparse { entries, .. } => entries.iter().map(|(i, v)| (*i, v)).collect(),
            }
        }
        let (px, py) = (present(x), present(y));
        px.len() == py.len()
            && px
                .iter()
                .zip(&py)
                .all(|((i, v), (j, w))| i == j && self.values(v, w))
    }

    fn objects(&mut self, i: ObjectId, j: ObjectId) -> bool {
        let (Some(x), Some(y)) = (self.a.get(i), self.b.get(j)) else {
            return false;
        };
        match (x, y) {
            (Object::Object(p), Object::Object(q)) => self.properties(p, q),
            (Object::Array(p), Object::Array(q)) => {
                p.length() == q.length()
                    && self.elements(&p.elements, &q.elements)
                    && self.properties(&p.properties, &q.properties)
            }
            (Object::BooleanObject(p), Object::BooleanObject(q)) => p == q,
            (Object::NumberObject(p), Object::NumberObject(q))
            | (Object::Date(p), Object::Date(q)) => Value::Number(*p) == Value::Number(*q),
            (Object::BigIntObject(p), Object::BigIntObject(q)) => p == q,
            (Object::StringObject(p), Object::StringObject(q)) => p == q,
            (Object::RegExp(p), Object::RegExp(q)) => p == q,
            (Object::ArrayBuffer(p), Object::ArrayBuffer(q)) => p.data == q.data,
            // As `util.isDeepStrictEqual` reads them: the kind and the bytes the view sees, not
            // where they sit in its buffer (a binding may copy just those bytes out).
            (Object::View(p), Object::View(q)) => {
                p.kind == q.kind
                    && matches!(
                        (seen(self.a, p), seen(self.b, q)),
                        (Some(x), Some(y)) if x == y
                    )
            }
            (Object::Map(p), Object::Map(q)) => {
                p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|((k, v), (k2, w))| self.values(k, k2) && self.values(v, w))
            }
            (Object::Set(p), Object::Set(q)) => {
                p.len() == q.len() && p.iter().zip(q).all(|(v, w)| self.values(v, w))
            }
            (Object::Error(p), Object::Error(q)) => {
                p.name == q.name
                    && p.message == q.message
                    && p.stack == q.stack
                    && match (&p.cause, &q.cause) {
                        (None, None) => true,
                        (Some(c), Some(d)) => self.values(c, d),
                        _ => false,
                    }
            }
            (Object::MessagePort(p), Object::MessagePort(q)) => p == q,
            _ => false,
        }
    }
}

/// The bytes a view sees in its buffer (`None` when its range is outside the buffer).
fn seen<'g>(g: &'g Graph, v: &ArrayBufferView) -> Option<&'g [u8]> {
    let Some(Object::ArrayBuffer(b)) = g.get(v.buffer) else {
        return None;
    };
    let start = v.byte_offset as usize;
    let end = if v.length_tracking {
        b.data.len()
    } else {
        start.checked_add(v.byte_length as usize)?
    };
    b.data.get(start..end)
}

/// Whether `x` in `a` and `y` in `b` are structurally equal.
pub(crate) fn deep_equal(a: &Graph, x: &Value, b: &Graph, y: &Value) -> bool {
    let mut m = Matcher {
        a,
        b,
        a_to_b: HashMap::new(),
        b_to_a: HashMap::new(),
        todo: Vec::new(),
    };
    if !m.values(x, y) {
        return false;
    }
    while let Some((i, j)) = m.todo.pop() {
        if !m.objects(i, j) {
            return false;
        }
    }
    true
}

/// Writes to `*out` whether `a` and `b` are deeply equal, as JavaScript's
/// `util.isDeepStrictEqual` reads structured-clone values: the same types; primitives, Dates and
/// Number objects by SameValue (NaN equals NaN, -0 differs from 0); strings by code unit;
/// objects' own properties with equal values, in any order; arrays' length, present elements
/// (a hole differs from `undefined`) and extra properties; Map entries and Set members in
/// order; ArrayBuffers by their bytes; typed arrays and DataViews by their kind and the bytes
/// they see (not their offset in the buffer); Errors' name, message, stack and cause. Objects must correspond one to one: a shared object
/// or a cycle on one side must be shared or a cycle the same way on the other. Ports are equal
/// only to themselves. Unlike `wm_value_same` (identity), the two values may come from
/// different messages.
///
/// Thread safety: any thread. Cost: linear in the size of both values.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_equal(
    a: *const wm_value,
    b: *const wm_value,
    out: *mut bool,
) -> wm_status {
    guard(here!(), || {
        let (a, b) = (value_arg(a, "a")?, value_arg(b, "b")?);
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // Copies, so that no graph lock is held across both (the two may share one graph).
        let (ga, va) = with_graph(&a, |g, v| (g.clone(), v.clone()));
        let (gb, vb) = with_graph(&b, |g, v| (g.clone(), v.clone()));
        let equal = deep_equal(&ga, &va, &gb, &vb);
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(equal) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use webmessaging_core::clone::Array;

    fn one(object: Object) -> (Graph, Value) {
        let mut g = Graph::new();
        let id = g.add(object);
        (g, Value::Object(id))
    }

    #[test]
    fn dense_and_sparse_with_every_index_are_equal_and_holes_are_not_undefined() {
        let (a, x) = one(Object::Array(Array::dense(vec![1.into(), 2.into()])));
        let full = Array {
            elements: Elements::Sparse {
                length: 2,
                entries: vec![(0, 1.into()), (1, 2.into())],
            },
            properties: Vec::new(),
        };
        let (b, y) = one(Object::Array(full));
        assert!(deep_equal(&a, &x, &b, &y));
        let holey = Array {
            elements: Elements::Sparse {
                length: 2,
                entries: vec![(1, 2.into())],
            },
            properties: Vec::new(),
        };
        let (c, z) = one(Object::Array(holey));
        let (d, w) = one(Object::Array(Array::dense(vec![
            Value::Undefined,
            2.into(),
        ])));
        assert!(!deep_equal(&c, &z, &d, &w));
    }

    #[test]
    fn views_compare_by_kind_and_the_bytes_they_see() {
        use webmessaging_core::clone::{ArrayBuffer, ViewKind};
        let view = |data: Vec<u8>, byte_offset, byte_length, kind| {
            let mut g = Graph::new();
            let buffer = g.add(Object::ArrayBuffer(ArrayBuffer::new(data)));
            let v = g.add(Object::View(ArrayBufferView {
                kind,
                buffer,
                byte_offset,
                byte_length,
                length_tracking: false,
            }));
            (g, Value::Object(v))
        };
        let (a, x) = view(vec![9, 1, 2, 9], 1, 2, ViewKind::Int8);
        let (b, y) = view(vec![1, 2], 0, 2, ViewKind::Int8);
        let (c, z) = view(vec![1, 3], 0, 2, ViewKind::Int8);
        let (d, w) = view(vec![1, 2], 0, 2, ViewKind::Uint8);
        assert!(deep_equal(&a, &x, &b, &y));
        assert!(!deep_equal(&a, &x, &c, &z));
        assert!(!deep_equal(&b, &y, &d, &w));
    }

    #[test]
    fn numbers_by_same_value_and_shapes_one_to_one() {
        assert!(deep_equal(
            &Graph::new(),
            &f64::NAN.into(),
            &Graph::new(),
            &f64::NAN.into()
        ));
        assert!(!deep_equal(
            &Graph::new(),
            &(-0.0).into(),
            &Graph::new(),
            &0.0.into()
        ));
        // [s, s] (one shared object) differs from [s, t] (two equal ones).
        let mut a = Graph::new();
        let s = a.add(Object::Object(Vec::new()));
        let arr = a.add(Object::Array(Array::dense(vec![s.into(), s.into()])));
        let mut b = Graph::new();
        let s1 = b.add(Object::Object(Vec::new()));
        let s2 = b.add(Object::Object(Vec::new()));
        let arr2 = b.add(Object::Array(Array::dense(vec![s1.into(), s2.into()])));
        assert!(!deep_equal(&a, &arr.into(), &b, &arr2.into()));
        assert!(deep_equal(&a, &arr.into(), &a, &arr.into()));
        // A self cycle equals a self cycle.
        let mut c = Graph::new();
        let o = c.add(Object::Object(Vec::new()));
        if let Some(Object::Object(p)) = c.get_mut(o) {
            p.push(("self".into(), o.into()));
        }
        let mut d = c.clone();
        let o2 = d.add(Object::Object(Vec::new()));
        if let Some(Object::Object(p)) = d.get_mut(o2) {
            p.push(("self".into(), o.into()));
        }
        assert!(deep_equal(&c, &o.into(), &c, &o.into()));
        // {self: <itself>} vs {self: <another object that is a cycle>}: different shapes.
        assert!(!deep_equal(&c, &o.into(), &d, &o2.into()));
    }
}
