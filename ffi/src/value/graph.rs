//! Graphs that can merge. Linking a value of one graph into a container of another merges the
//! second graph into the first; the merged-away graph (a *document*) then forwards to the one it
//! merged into, so every handle into it keeps working.

use std::sync::Arc;

use parking_lot::Mutex;
use webmessaging_core::clone::{self, Elements, Graph, Object, Value};

use super::ValueObj;

/// A value graph that handles refer to: live, or forwarding to the document it merged into.
pub(crate) struct Doc(pub(super) Mutex<DocState>);

pub(super) enum DocState {
    /// The graph itself.
    Live(Graph),
    /// Merged into another document; this one's object ids are that one's plus `offset`.
    Forward(Arc<Doc>, u32),
}

impl Doc {
    pub(super) fn new(graph: Graph) -> Arc<Doc> {
        Arc::new(Doc(Mutex::new(DocState::Live(graph))))
    }
}

fn shift(v: &Value, offset: u32) -> Value {
    match v {
        Value::Object(id) => Value::Object(clone::ObjectId(id.0 + offset)),
        other => other.clone(),
    }
}

/// Follows forwards to the live document and the value's id in it.
pub(super) fn resolve(doc: &Arc<Doc>, value: &Value) -> (Arc<Doc>, Value) {
    let mut doc = doc.clone();
    let mut value = value.clone();
    loop {
        let next = match &*doc.0.lock() {
            DocState::Live(_) => None,
            DocState::Forward(to, offset) => Some((to.clone(), *offset)),
        };
        match next {
            None => return (doc, value),
            Some((to, offset)) => {
                value = shift(&value, offset);
                doc = to;
            }
        }
    }
}

/// Runs `f` on the live graph of `v` (with `v`'s value resolved in it).
pub(super) fn with_graph<R>(v: &ValueObj, f: impl FnOnce(&mut Graph, &Value) -> R) -> R {
    let mut f = Some(f);
    loop {
        let (doc, value) = resolve(&v.doc, &v.value);
        let mut st = doc.0.lock();
        if let DocState::Live(g) = &mut *st {
            let f = f.take().expect("called once");
            return f(g, &value);
        }
        // Merged by another thread between resolve and lock: resolve again.
    }
}

fn remap_value(v: &mut Value, offset: u32) {
    if let Value::Object(id) = v {
        id.0 += offset;
    }
}

fn remap_object(o: &mut Object, offset: u32) {
    let r = |v: &mut Value| remap_value(v, offset);
    // Exhaustive on purpose: a new object kind that holds references must be remapped here.
    match o {
        Object::Object(props) => props.iter_mut().for_each(|(_, v)| r(v)),
        Object::Array(a) => {
            match &mut a.elements {
                Elements::Dense(items) => items.iter_mut().for_each(r),
                Elements::Sparse { entries, .. } => entries.iter_mut().for_each(|(_, v)| r(v)),
            }
            a.properties.iter_mut().for_each(|(_, v)| r(v));
        }
        Object::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            r(k);
            r(v)
        }),
        Object::Set(items) => items.iter_mut().for_each(r),
        Object::View(view) => view.buffer.0 += offset,
        Object::Error(e) => {
            if let Some(c) = &mut e.cause {
                r(c)
            }
        }
        Object::BooleanObject(_)
        | Object::NumberObject(_)
        | Object::BigIntObject(_)
        | Object::StringObject(_)
        | Object::Date(_)
        | Object::RegExp(_)
        | Object::ArrayBuffer(_)
        | Object::MessagePort(_) => {}
    }
}

/// Runs `f` on one live graph holding both `a` and `b`, merging `b`'s graph into `a`'s first if
/// they differ (only when `b` is an object: primitives need no graph).
pub(super) fn with_two<R>(
    a: &ValueObj,
    b: &ValueObj,
    f: impl FnOnce(&mut Graph, &Value, &Value) -> R,
) -> R {
    let mut f = Some(f);
    loop {
        let (da, va) = resolve(&a.doc, &a.value);
        let (db, vb) = resolve(&b.doc, &b.value);
        if Arc::ptr_eq(&da, &db) || !matches!(vb, Value::Object(_)) {
            let mut st = da.0.lock();
            if let DocState::Live(g) = &mut *st {
                return (f.take().expect("called once"))(g, &va, &vb);
            }
            continue;
        }
        // Lock both in address order so concurrent merges cannot deadlock.
        let a_first = Arc::as_ptr(&da) < Arc::as_ptr(&db);
        let (g1, g2) = if a_first {
            (da.0.lock(), db.0.lock())
        } else {
            (db.0.lock(), da.0.lock())
        };
        let (mut sa, mut sb) = if a_first { (g1, g2) } else { (g2, g1) };
        let (DocState::Live(ga), DocState::Live(gb)) = (&mut *sa, &mut *sb) else {
            continue;
        };
        let offset = ga.len() as u32;
        for (_, o) in gb.iter() {
            let mut o = o.clone();
            remap_object(&mut o, offset);
            ga.add(o);
        }
        *sb = DocState::Forward(da.clone(), offset);
        let vb = shift(&vb, offset);
        return (f.take().expect("called once"))(ga, &va, &vb);
    }
}
