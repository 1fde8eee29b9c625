//! Structural equality of values: an iterative walk that matches objects one to one, so shared
//! references and cycles must have the same shape on both sides. Two readings of "equal":
//! *exact* (the same representation, for codec round trips) and *deep* (the same JavaScript
//! value as `util.isDeepStrictEqual` reads it, for values that crossed languages).

use std::collections::HashMap;

use super::value::{same_value, Array, ArrayBufferView, Elements, Graph, Object, ObjectId, Value};
use super::JsString;

#[derive(Clone, Copy)]
enum Reading {
    /// Same representation: property order, dense or sparse form and view offsets count.
    Exact { ports_by_identity: bool },
    /// Same value: own properties in any order, an array's present elements whatever its form,
    /// a view's kind and the bytes it sees. Ports only equal themselves.
    Deep,
}

struct Matcher<'a> {
    a: &'a Graph,
    b: &'a Graph,
    reading: Reading,
    a_to_b: HashMap<ObjectId, ObjectId>,
    b_to_a: HashMap<ObjectId, ObjectId>,
    /// Object pairs matched but not yet compared (no recursion on deep values).
    todo: Vec<(ObjectId, ObjectId)>,
}

fn matches(a: &Graph, x: &Value, b: &Graph, y: &Value, reading: Reading) -> bool {
    let mut m = Matcher {
        a,
        b,
        reading,
        a_to_b: HashMap::new(),
        b_to_a: HashMap::new(),
        todo: Vec::new(),
    };
    if !m.value(x, y) {
        return false;
    }
    while let Some((i, j)) = m.todo.pop() {
        if !m.object(i, j) {
            return false;
        }
    }
    true
}

/// See [`Graph::equivalent`].
fn equivalent(a: &Graph, b: &Graph, ports_by_identity: bool) -> bool {
    matches(a, &a.root, b, &b.root, Reading::Exact { ports_by_identity })
}

/// See [`Graph::deep_equal`].
fn deep_equal(a: &Graph, x: &Value, b: &Graph, y: &Value) -> bool {
    matches(a, x, b, y, Reading::Deep)
}

impl Matcher<'_> {
    fn deep(&self) -> bool {
        matches!(self.reading, Reading::Deep)
    }

    /// Compares two values; object pairs are matched now and their contents queued.
    fn value(&mut self, x: &Value, y: &Value) -> bool {
        match (x, y) {
            (Value::Object(i), Value::Object(j)) => self.pair(*i, *j),
            (Value::Object(_), _) | (_, Value::Object(_)) => false,
            _ => x == y,
        }
    }

    fn pair(&mut self, i: ObjectId, j: ObjectId) -> bool {
        match (self.a_to_b.get(&i), self.b_to_a.get(&j)) {
            (Some(&jj), Some(&ii)) => jj == j && ii == i,
            (None, None) => {
                self.a_to_b.insert(i, j);
                self.b_to_a.insert(j, i);
                self.todo.push((i, j));
                true
            }
            _ => false,
        }
    }

    fn values<'v>(
        &mut self,
        xs: impl ExactSizeIterator<Item = &'v Value>,
        ys: impl ExactSizeIterator<Item = &'v Value>,
    ) -> bool {
        xs.len() == ys.len() && xs.zip(ys).all(|(x, y)| self.value(x, y))
    }

    /// Own properties: in order when exact, as a set of keys when deep.
    fn props(&mut self, x: &[(JsString, Value)], y: &[(JsString, Value)]) -> bool {
        if x.len() != y.len() {
            return false;
        }
        if self.deep() {
            return x
                .iter()
                .all(|(k, v)| match y.iter().find(|(k2, _)| k2 == k) {
                    Some((_, w)) => self.value(v, w),
                    None => false,
                });
        }
        x.iter()
            .zip(y)
            .all(|((kx, vx), (ky, vy))| kx == ky && self.value(vx, vy))
    }

    fn array(&mut self, x: &Array, y: &Array) -> bool {
        let same_elements = match (&x.elements, &y.elements) {
            (Elements::Dense(a), Elements::Dense(b)) => self.values(a.iter(), b.iter()),
            (
                Elements::Sparse {
                    length: la,
                    entries: ea,
                },
                Elements::Sparse {
                    length: lb,
                    entries: eb,
                },
            ) => {
                la == lb
                    && ea.len() == eb.len()
                    && ea
                        .iter()
                        .zip(eb)
                        .all(|((ia, va), (ib, vb))| ia == ib && self.value(va, vb))
            }
            // A dense array and a sparse one with every index present are one JS value.
            (a, b) if self.deep() => {
                let (pa, pb) = (present(a), present(b));
                x.length() == y.length()
                    && pa.len() == pb.len()
                    && pa
                        .iter()
                        .zip(&pb)
                        .all(|((i, v), (j, w))| i == j && self.value(v, w))
            }
            _ => false,
        };
        same_elements && self.props(&x.properties, &y.properties)
    }

    fn view(&mut self, p: &ArrayBufferView, q: &ArrayBufferView) -> bool {
        if self.deep() {
            // The kind and the bytes the view sees, not where they sit in its buffer (a binding
            // may copy just those bytes out).
            return p.kind == q.kind
                && matches!((seen(self.a, p), seen(self.b, q)), (Some(x), Some(y)) if x == y);
        }
        p.kind == q.kind
            && p.byte_offset == q.byte_offset
            && p.byte_length == q.byte_length
            && p.length_tracking == q.length_tracking
            && self.pair(p.buffer, q.buffer)
    }

    fn object(&mut self, i: ObjectId, j: ObjectId) -> bool {
        let (Some(x), Some(y)) = (self.a.get(i), self.b.get(j)) else {
            return false;
        };
        match (x, y) {
            (Object::Object(p), Object::Object(q)) => self.props(p, q),
            (Object::Array(p), Object::Array(q)) => self.array(p, q),
            (Object::BooleanObject(p), Object::BooleanObject(q)) => p == q,
            (Object::NumberObject(p), Object::NumberObject(q))
            | (Object::Date(p), Object::Date(q)) => same_value(*p, *q),
            (Object::BigIntObject(p), Object::BigIntObject(q)) => p == q,
            (Object::StringObject(p), Object::StringObject(q)) => p == q,
            (Object::RegExp(p), Object::RegExp(q)) => p == q,
            (Object::ArrayBuffer(p), Object::ArrayBuffer(q)) if self.deep() => p.data == q.data,
            (Object::ArrayBuffer(p), Object::ArrayBuffer(q)) => p == q,
            (Object::View(p), Object::View(q)) => self.view(p, q),
            (Object::Map(p), Object::Map(q)) => {
                p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|((k1, v1), (k2, v2))| self.value(k1, k2) && self.value(v1, v2))
            }
            (Object::Set(p), Object::Set(q)) => self.values(p.iter(), q.iter()),
            (Object::Error(p), Object::Error(q)) => {
                p.name == q.name
                    && p.message == q.message
                    && p.stack == q.stack
                    && match (&p.cause, &q.cause) {
                        (None, None) => true,
                        (Some(c), Some(d)) => self.value(c, d),
                        _ => false,
                    }
            }
            (Object::MessagePort(p), Object::MessagePort(q)) => match self.reading {
                Reading::Exact { ports_by_identity } => !ports_by_identity || p == q,
                Reading::Deep => p == q,
            },
            _ => false,
        }
    }
}

/// An array's present elements by index, whichever form holds them.
fn present(e: &Elements) -> Vec<(u32, &Value)> {
    match e {
        Elements::Dense(v) => (0u32..).zip(v).collect(),
        Elements::Sparse { entries, .. } => entries.iter().map(|(i, v)| (*i, v)).collect(),
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

impl Graph {
    /// True when both graphs describe the same value: the same shape of objects reachable from
    /// the roots, with a one-to-one matching of objects (shared references and cycles must
    /// match). Ports match any port when `ports_by_identity` is false (a received port is a new
    /// handle), and only the same handle otherwise.
    pub fn equivalent(&self, other: &Graph, ports_by_identity: bool) -> bool {
        equivalent(self, other, ports_by_identity)
    }

    /// True when `x` in this graph and `y` in `other` are the same JavaScript value, as Node's
    /// `util.isDeepStrictEqual` reads structured-clone values — for a value that crossed
    /// languages and came back in another representation. The same types; primitives, Dates and
    /// Number objects by SameValue (NaN equals NaN, -0 differs from 0); objects' own properties
    /// in any order; arrays' length, present elements (a hole differs from `undefined`, a dense
    /// array equals a sparse one with every index) and extra properties; Map entries and Set
    /// members in order; ArrayBuffers by their bytes; views by their kind and the bytes they
    /// see; Errors by name, message, stack and cause; ports only equal themselves. Objects must
    /// correspond one to one, as in [`equivalent`](Self::equivalent).
    pub fn deep_equal(&self, x: &Value, other: &Graph, y: &Value) -> bool {
        deep_equal(self, x, other, y)
    }
}

/// Graph equality: [`Graph::equivalent`] with ports compared by identity.
impl PartialEq for Graph {
    fn eq(&self, other: &Self) -> bool {
        self.equivalent(other, true)
    }
}
