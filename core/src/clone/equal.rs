//! Structural equality of two graphs: an iterative walk that matches objects one to one.

use std::collections::HashMap;

use super::value::{same_value, Array, Elements, Graph, Object, ObjectId, Value};

struct Matcher<'a> {
    a: &'a Graph,
    b: &'a Graph,
    ports_by_identity: bool,
    a_to_b: HashMap<ObjectId, ObjectId>,
    b_to_a: HashMap<ObjectId, ObjectId>,
    todo: Vec<(ObjectId, ObjectId)>,
}

pub(crate) fn equivalent(a: &Graph, b: &Graph, ports_by_identity: bool) -> bool {
    let mut m = Matcher {
        a,
        b,
        ports_by_identity,
        a_to_b: HashMap::new(),
        b_to_a: HashMap::new(),
        todo: Vec::new(),
    };
    if !m.value(&a.root, &b.root) {
        return false;
    }
    while let Some((x, y)) = m.todo.pop() {
        if !m.object(x, y) {
            return false;
        }
    }
    true
}

impl Matcher<'_> {
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

    fn props(&mut self, x: &[(super::JsString, Value)], y: &[(super::JsString, Value)]) -> bool {
        x.len() == y.len()
            && x.iter()
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
            _ => false,
        };
        same_elements && self.props(&x.properties, &y.properties)
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
            (Object::ArrayBuffer(p), Object::ArrayBuffer(q)) => p == q,
            (Object::View(p), Object::View(q)) => {
                p.kind == q.kind
                    && p.byte_offset == q.byte_offset
                    && p.byte_length == q.byte_length
                    && p.length_tracking == q.length_tracking
                    && self.pair(p.buffer, q.buffer)
            }
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
            (Object::MessagePort(p), Object::MessagePort(q)) => !self.ports_by_identity || p == q,
            _ => false,
        }
    }
}
