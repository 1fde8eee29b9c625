//! Graphs that can merge. Linking a value of one graph into a container of another merges the
//! second graph into the first; the merged-away graph (a *document*) then forwards to the one it
//! merged into, so every handle into it keeps working.

use std::sync::Arc;

use parking_lot::Mutex;
use webmessaging_core::clone::{Graph, Value};

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
                value = value.shifted(offset);
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
        let offset = ga.append(gb);
        *sb = DocState::Forward(da.clone(), offset);
        let vb = vb.shifted(offset);
        return (f.take().expect("called once"))(ga, &va, &vb);
    }
}
