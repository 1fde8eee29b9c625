//! The driver: containers open on an explicit stack (objects, arrays, Maps, Sets, Errors), take
//! their keys and values, and are built when they end.

use super::dedup::{earlier, Seen, Svz};
use super::*;

/// An open container.
#[allow(clippy::box_collection)]
enum Frame {
    Object {
        id: ObjectId,
        /// Where this object's properties start on the reader's shared property stack.
        props: usize,
        key: Option<JsString>,
        order: KeyOrder,
    },
    Dense {
        id: ObjectId,
        len: u32,
        elements: Vec<Value>,
        /// Indices of `-` holes (rare).
        holes: Vec<u32>,
        props: usize,
        key: Option<JsString>,
    },
    Sparse {
        id: ObjectId,
        length: u32,
        entries: Vec<(u32, Value)>,
        props: usize,
        key: Option<Key>,
        seen_index: Seen<u32>,
    },
    Map {
        id: ObjectId,
        /// Entries on the wire (duplicates merged in lenient mode still count).
        wire: usize,
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
        seen: Option<Box<HashMap<Svz, usize>>>,
    },
    Set {
        id: ObjectId,
        wire: usize,
        values: Vec<Value>,
        seen: Option<Box<HashMap<Svz, usize>>>,
    },
    Error {
        id: ObjectId,
        wire_id: usize,
        error: ErrorObject,
        awaiting_cause: bool,
        started: bool,
    },
}

/// What the open container wants next.
enum Step {
    /// Read a value and hand it to the container.
    Value,
    /// The container ended: build it.
    End,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn push(&mut self, stack: &mut Vec<Frame>, frame: Frame) -> R<()> {
        self.check_depth(stack.len())?;
        stack.push(frame);
        Ok(())
    }

    /// Reads the next value if it is a primitive (the common case inside containers); leaves
    /// anything else for [`start_value`](Self::start_value).
    #[inline(always)]
    fn primitive(&mut self) -> R<Option<Value>> {
        let tag = self.peek_tag()?;
        let v = match tag {
            UNDEFINED => Value::Undefined,
            NULL => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            INT32 => {
                self.pos += 1;
                return Ok(Some(Value::Number(f64::from(self.zigzag()?))));
            }
            DOUBLE => {
                self.pos += 1;
                return Ok(Some(Value::Number(self.double()?)));
            }
            ONE_BYTE_STRING => {
                if let Some((window, len)) = self.short_one_byte(tag) {
                    self.pos += 2 + len;
                    self.charge_units(len)?;
                    return Ok(Some(Value::String(JsString::from_latin1_window(
                        window, len,
                    ))));
                }
                self.pos += 1;
                return Ok(Some(Value::String(self.string_body(tag)?)));
            }
            TWO_BYTE_STRING => {
                self.pos += 1;
                return Ok(Some(Value::String(self.string_body(tag)?)));
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(v))
    }

    /// Fails if a container opened at `depth` (the open containers around it) would nest
    /// deeper than the limit.
    #[inline(always)]
    fn check_depth(&self, depth: usize) -> R<()> {
        if depth >= self.opts.limits.max_depth {
            return Err(self.err(
                Kind::LimitExceeded,
                format!("nesting deeper than {} levels", self.opts.limits.max_depth),
            ));
        }
        Ok(())
    }

    /// Opens an object (its tag read). An object whose values are all primitives or dense
    /// arrays of primitives (a typical record) is read to its end right here, without a frame:
    /// `Some(value)`. Otherwise its frame (and that of a dense array it was reading) is pushed
    /// where it stopped and the driver carries on: `None`. Either way the same bytes are read
    /// in the same order with the same checks.
    fn open_object(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        let id = self.alloc_wire(OPEN)?;
        self.check_depth(stack.len())?;
        let start = self.props.len();
        let mut order = KeyOrder::new();
        loop {
            let at = self.pos;
            let Some(k) = self.key_or_end(END_JS_OBJECT)? else {
                self.check_count(self.props_from(start).len(), "object")?;
                let props = self.take_props(id, start, !order.sorted);
                self.set(id, Object::Object(props));
                return Ok(Some(Value::Object(id)));
            };
            order.note(&k);
            let name = k.into_name();
            self.add_prop(id, start, &name, at)?;
            if let Some(v) = self.primitive()? {
                self.props.push((name, v));
                continue;
            }
            let mut inner = None;
            if self.input.get(self.pos) == Some(&BEGIN_DENSE_JS_ARRAY) {
                let at = self.pos;
                self.pos += 1;
                match self.dense(at, stack.len() + 1)? {
                    Ok(v) => {
                        self.props.push((name, v));
                        continue;
                    }
                    Err(frame) => inner = Some(frame),
                }
            }
            let frame = Frame::Object {
                id,
                props: start,
                key: Some(name),
                order,
            };
            stack.push(frame);
            stack.extend(inner);
            return Ok(None);
        }
    }

    /// Opens a dense array (its tag, at `at`, read): `Some(value)` if it held only primitives
    /// and no properties (read to its end here), else `None` with its frame pushed.
    #[inline(always)]
    fn open_dense(&mut self, at: usize, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        match self.dense(at, stack.len())? {
            Ok(v) => Ok(Some(v)),
            Err(frame) => {
                stack.push(frame);
                Ok(None)
            }
        }
    }

    /// A dense array (its tag, at `at`, read) opened at `depth`: its value if its elements are
    /// all primitives and it has no holes or properties, else its frame (to be pushed) holding
    /// the elements read so far, the input left at the first one it could not take.
    #[inline(always)]
    fn dense(&mut self, at: usize, depth: usize) -> R<Result<Value, Frame>> {
        let len = self.varint()?;
        // Every element takes at least one byte.
        if len as usize > self.remaining() {
            return Err(self.err_at(
                at,
                Kind::Truncated,
                format!("dense array of {len} elements is longer than the input"),
            ));
        }
        let id = self.alloc_wire(OPEN)?;
        self.check_depth(depth)?;
        let mut elements = Vec::with_capacity(self.reserve_elements(len as usize));
        while elements.len() < len as usize {
            match self.primitive()? {
                Some(v) => elements.push(v),
                None => break,
            }
        }
        if elements.len() == len as usize && self.peek_tag()? == END_DENSE_JS_ARRAY {
            self.pos += 1;
            self.check_count(0, "dense array properties")?;
            self.check_count(len as usize, "dense array length")?;
            self.set(id, Object::Array(Array::dense(elements)));
            return Ok(Ok(Value::Object(id)));
        }
        Ok(Err(Frame::Dense {
            id,
            len,
            elements,
            holes: Vec::new(),
            props: self.props.len(),
            key: None,
        }))
    }

    /// Reads a value (a view right after a buffer included). `None` if it opened a container.
    #[inline(always)]
    fn start_value(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        // Fast path: the containers of most messages, which are never followed by a view.
        let at = self.pos;
        match self.input.get(at) {
            Some(&BEGIN_JS_OBJECT) => {
                self.pos += 1;
                return self.open_object(stack);
            }
            Some(&BEGIN_DENSE_JS_ARRAY) => {
                self.pos += 1;
                return self.open_dense(at, stack);
            }
            _ => {}
        }
        self.start_value_slow(stack)
    }

    fn start_value_slow(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        let v = self.start_value_inner(stack)?;
        if let Some(Value::Object(id)) = v {
            if matches!(self.objects.get(id.index()), Some(Object::ArrayBuffer(_)))
                && self.input.get(self.pos..).is_some_and(|rest| {
                    rest.iter().find(|&&b| b != PADDING) == Some(&ARRAY_BUFFER_VIEW)
                })
            {
                self.peek_tag()?;
                self.pos += 1;
                return self.view(id).map(Some);
            }
        }
        Ok(v)
    }

    #[inline(never)]
    fn start_value_inner(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        let at = self.pos;
        let mut tag = self.tag()?;
        while tag == VERIFY_OBJECT_COUNT {
            self.varint()?;
            tag = self.tag()?;
        }
        let v = match tag {
            UNDEFINED => Value::Undefined,
            NULL => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            INT32 => Value::Number(f64::from(self.zigzag()?)),
            UINT32 => Value::Number(f64::from(self.varint()?)),
            DOUBLE => Value::Number(self.double()?),
            BIGINT => Value::BigInt(self.bigint()?),
            ONE_BYTE_STRING | TWO_BYTE_STRING | UTF8_STRING => {
                Value::String(self.string_body(tag)?)
            }
            OBJECT_REFERENCE => {
                let wire = self.varint()? as usize;
                match self.wire_object(wire) {
                    Some(id) if id != NOT_YET => Value::Object(ObjectId(id)),
                    Some(_) => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("reference to object {wire} before it can be referenced"),
                        ))
                    }
                    None => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("reference to unknown object {wire}"),
                        ))
                    }
                }
            }
            BEGIN_JS_OBJECT => return self.open_object(stack),
            BEGIN_DENSE_JS_ARRAY => return self.open_dense(at, stack),
            BEGIN_SPARSE_JS_ARRAY => {
                let length = self.varint()?;
                self.charge_sparse(at, length)?;
                let id = self.alloc_wire(OPEN)?;
                let frame = Frame::Sparse {
                    id,
                    length,
                    entries: Vec::new(),
                    props: self.props.len(),
                    key: None,
                    seen_index: Seen::new(),
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            BEGIN_JS_MAP => {
                let id = self.alloc_wire(OPEN)?;
                self.push(
                    stack,
                    Frame::Map {
                        id,
                        wire: 0,
                        entries: Vec::new(),
                        key: None,
                        seen: None,
                    },
                )?;
                return Ok(None);
            }
            BEGIN_JS_SET => {
                let id = self.alloc_wire(OPEN)?;
                self.push(
                    stack,
                    Frame::Set {
                        id,
                        wire: 0,
                        values: Vec::new(),
                        seen: None,
                    },
                )?;
                return Ok(None);
            }
            DATE => {
                let t = time_clip(self.double()?);
                Value::Object(self.alloc_wire(Object::Date(t))?)
            }
            TRUE_OBJECT => Value::Object(self.alloc_wire(Object::BooleanObject(true))?),
            FALSE_OBJECT => Value::Object(self.alloc_wire(Object::BooleanObject(false))?),
            NUMBER_OBJECT => {
                let n = self.double()?;
                Value::Object(self.alloc_wire(Object::NumberObject(n))?)
            }
            BIGINT_OBJECT => {
                let b = self.bigint()?;
                Value::Object(self.alloc_wire(Object::BigIntObject(b))?)
            }
            STRING_OBJECT => {
                let s = self.tagged_string("String object")?;
                Value::Object(self.alloc_wire(Object::StringObject(s))?)
            }
            REGEXP => self.regexp()?,
            ARRAY_BUFFER => self.array_buffer(false)?,
            RESIZABLE_ARRAY_BUFFER => self.array_buffer(true)?,
            ARRAY_BUFFER_TRANSFER => self.transferred_buffer()?,
            HOST_OBJECT => self.host_object()?,
            ERROR => {
                // The id is taken now but the error is referable only once its cause starts.
                let id = self.alloc(OPEN)?;
                let wire_id = self.id_map.len();
                self.id_map.push(NOT_YET);
                let frame = Frame::Error {
                    id,
                    wire_id,
                    error: ErrorObject::default(),
                    awaiting_cause: false,
                    started: false,
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            ARRAY_BUFFER_VIEW => {
                return Err(self.err_at(at, Kind::Malformed, "a view must follow an ArrayBuffer"))
            }
            THE_HOLE => {
                return Err(self.err_at(at, Kind::Malformed, "a hole outside a dense array"))
            }
            SHARED_ARRAY_BUFFER | SHARED_OBJECT | WASM_MODULE_TRANSFER | WASM_MEMORY_TRANSFER => {
                return Err(self.err_at(
                    at,
                    Kind::Unsupported,
                    format!(
                        "tag {} (shared memory or WebAssembly) is not supported",
                        show(tag)
                    ),
                ))
            }
            t => {
                return Err(self.err_at(at, Kind::Malformed, format!("unexpected tag {}", show(t))))
            }
        };
        Ok(Some(v))
    }

    pub(super) fn run(&mut self) -> R<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut done = self.start_value(&mut stack)?;
        loop {
            if let Some(v) = done.take() {
                match stack.last_mut() {
                    None => return Ok(v),
                    Some(frame) => self.deliver(frame, v)?,
                }
            }
            let Some(frame) = stack.last_mut() else {
                return Err(self.err(Kind::Malformed, "reader lost its place"));
            };
            match self.next_step(frame)? {
                Step::Value => done = self.start_value(&mut stack)?,
                Step::End => {
                    let Some(frame) = stack.pop() else {
                        return Err(self.err(Kind::Malformed, "reader lost its place"));
                    };
                    done = Some(self.finish(frame)?);
                }
            }
        }
    }

    /// Reads the key of the next property, or the end tag. Returns `None` at the end tag.
    #[inline(always)]
    fn key_or_end(&mut self, end: u8) -> R<Option<Key>> {
        // Fast path: a short one-byte key that starts with a non-digit is a name (never an
        // array index) and is held inline.
        if let Some((window, len)) = self.short_one_byte(ONE_BYTE_STRING) {
            if len > 0 && !window[0].is_ascii_digit() {
                self.pos += 2 + len;
                self.charge_units(len)?;
                return Ok(Some(Key::Name(JsString::from_latin1_window(window, len))));
            }
        }
        if self.peek_tag()? == end {
            self.pos += 1;
            return Ok(None);
        }
        self.key().map(Some)
    }

    fn check_count(&mut self, expected: usize, what: &str) -> R<()> {
        let at = self.pos;
        let n = self.varint()? as usize;
        if n != expected {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{what}: end count {n} but {expected} read"),
            ));
        }
        Ok(())
    }

    /// The properties read so far of the open container whose first one is at `start`.
    fn props_from(&self, start: usize) -> &[(JsString, Value)] {
        self.props.get(start..).unwrap_or_default()
    }

    /// Checks that `name` is new among the properties of the open container `id` whose first
    /// one is at `start`: a scan while it has few, the reader's shared set beyond.
    #[inline(always)]
    fn add_prop(&mut self, id: ObjectId, start: usize, name: &JsString, at: usize) -> R<()> {
        let existing = self.props.get(start..).unwrap_or_default();
        if existing.len() < LINEAR_KEYS && !existing.iter().any(|(k, _)| same_key(k, name)) {
            return Ok(());
        }
        self.add_prop_slow(id, start, name, at)
    }

    fn add_prop_slow(&mut self, id: ObjectId, start: usize, name: &JsString, at: usize) -> R<()> {
        // Fields, not `props_from`: the scan borrows `props` while `prop_keys` grows.
        let existing = self.props.get(start..).unwrap_or_default();
        let fresh = if existing.len() < LINEAR_KEYS {
            !existing.iter().any(|(k, _)| k == name)
        } else {
            if existing.len() == LINEAR_KEYS {
                let keys = existing.iter().map(|(k, _)| (id, k.clone()));
                self.prop_keys.extend(keys);
            }
            self.prop_keys.insert((id, name.clone()))
        };
        if !fresh {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("duplicate property key {name:?}"),
            ));
        }
        Ok(())
    }

    fn next_step(&mut self, frame: &mut Frame) -> R<Step> {
        let at = self.pos;
        match frame {
            Frame::Object {
                id,
                props,
                key,
                order,
            } => {
                if key.is_some() {
                    return Ok(Step::Value);
                }
                // Fast path: properties with primitive values are read here, in one loop,
                // without a trip through the driver each.
                loop {
                    let at = self.pos;
                    match self.key_or_end(END_JS_OBJECT)? {
                        None => {
                            self.check_count(self.props_from(*props).len(), "object")?;
                            return Ok(Step::End);
                        }
                        Some(k) => {
                            order.note(&k);
                            let name = k.into_name();
                            self.add_prop(*id, *props, &name, at)?;
                            if let Some(v) = self.primitive()? {
                                self.props.push((name, v));
                                continue;
                            }
                            *key = Some(name);
                            return Ok(Step::Value);
                        }
                    }
                }
            }
            Frame::Dense {
                id,
                len,
                elements,
                holes,
                props,
                key,
            } => {
                while elements.len() < *len as usize {
                    if self.peek_tag()? == THE_HOLE {
                        self.pos += 1;
                        holes.push(elements.len() as u32);
                        elements.push(Value::Undefined);
                        continue;
                    }
                    match self.primitive()? {
                        Some(v) => elements.push(v),
                        None => return Ok(Step::Value),
                    }
                }
                if key.is_some() {
                    return Ok(Step::Value);
                }
                match self.key_or_end(END_DENSE_JS_ARRAY)? {
                    None => {
                        self.check_count(self.props_from(*props).len(), "dense array properties")?;
                        self.check_count(*len as usize, "dense array length")?;
                        Ok(Step::End)
                    }
                    Some(Key::Index(i)) => Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("index key {i} among a dense array's properties"),
                    )),
                    Some(Key::Name(name)) => {
                        self.add_prop(*id, *props, &name, at)?;
                        *key = Some(name);
                        Ok(Step::Value)
                    }
                }
            }
            Frame::Sparse {
                id,
                length,
                entries,
                props,
                key,
                seen_index,
            } => {
                if key.is_some() {
                    return Ok(Step::Value);
                }
                match self.key_or_end(END_SPARSE_JS_ARRAY)? {
                    None => {
                        let n = entries.len() + self.props_from(*props).len();
                        self.check_count(n, "sparse array properties")?;
                        self.check_count(*length as usize, "sparse array length")?;
                        Ok(Step::End)
                    }
                    Some(Key::Index(i)) => {
                        if i >= *length {
                            return Err(self.err_at(
                                at,
                                Kind::Malformed,
                                format!("index {i} beyond the sparse array's length {length}"),
                            ));
                        }
                        if !seen_index.insert(&i, entries.iter().map(|(j, _)| j)) {
                            return Err(self.err_at(
                                at,
                                Kind::Malformed,
                                format!("duplicate array index {i}"),
                            ));
                        }
                        *key = Some(Key::Index(i));
                        Ok(Step::Value)
                    }
                    Some(Key::Name(name)) => {
                        self.add_prop(*id, *props, &name, at)?;
                        *key = Some(Key::Name(name));
                        Ok(Step::Value)
                    }
                }
            }
            Frame::Map { wire, key, .. } => {
                if key.is_none() && self.peek_tag()? == END_JS_MAP {
                    self.pos += 1;
                    self.check_count(*wire * 2, "Map")?;
                    return Ok(Step::End);
                }
                Ok(Step::Value)
            }
            Frame::Set { wire, .. } => {
                if self.peek_tag()? == END_JS_SET {
                    self.pos += 1;
                    self.check_count(*wire, "Set")?;
                    return Ok(Step::End);
                }
                Ok(Step::Value)
            }
            Frame::Error {
                id,
                wire_id,
                error,
                awaiting_cause,
                started,
            } => {
                if *awaiting_cause {
                    return Ok(Step::Value);
                }
                self.error_fields(*id, *wire_id, error, awaiting_cause, started)
            }
        }
    }

    /// Error sub-tags (read as raw bytes, not tags) up to the cause or the end.
    fn error_fields(
        &mut self,
        id: ObjectId,
        wire_id: usize,
        error: &mut ErrorObject,
        awaiting_cause: &mut bool,
        started: &mut bool,
    ) -> R<Step> {
        loop {
            let at = self.pos;
            let first = !*started;
            *started = true;
            let sub = self.byte()?;
            match sub {
                ERROR_MESSAGE if error.message.is_none() => {
                    error.message = Some(self.tagged_string("Error message")?)
                }
                ERROR_STACK if error.stack.is_none() => {
                    error.stack = Some(self.tagged_string("Error stack")?)
                }
                ERROR_CAUSE if error.cause.is_none() => {
                    // Newer V8 lets the cause refer to the error itself.
                    if let Some(slot) = self.id_map.get_mut(wire_id) {
                        *slot = id.0;
                    }
                    *awaiting_cause = true;
                    return Ok(Step::Value);
                }
                ERROR_END => return Ok(Step::End),
                t if first && ErrorName::from_wire_tag(t).is_some() => {
                    error.name = ErrorName::from_wire_tag(t).unwrap_or_default();
                }
                t => {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("unexpected or repeated Error field {}", show(t)),
                    ))
                }
            }
        }
    }

    fn deliver(&mut self, frame: &mut Frame, v: Value) -> R<()> {
        let at = self.pos;
        match frame {
            Frame::Object { key, .. } | Frame::Dense { key, .. } if key.is_some() => {
                if let Some(k) = key.take() {
                    self.props.push((k, v));
                }
            }
            Frame::Dense { elements, .. } => elements.push(v),
            Frame::Object { .. } => return Err(self.err(Kind::Malformed, "value without a key")),
            Frame::Sparse { entries, key, .. } => match key.take() {
                Some(Key::Index(i)) => entries.push((i, v)),
                Some(Key::Name(n)) => self.props.push((n, v)),
                None => return Err(self.err(Kind::Malformed, "value without a key")),
            },
            Frame::Map {
                wire,
                entries,
                key,
                seen,
                ..
            } => match key.take() {
                None => *key = Some(v),
                Some(k) => {
                    *wire += 1;
                    match earlier(seen, entries.iter().map(|(x, _)| x), &k) {
                        None => entries.push((k, v)),
                        Some(_) if self.opts.strict => {
                            return Err(self.err_at(at, Kind::Malformed, "duplicate Map key"))
                        }
                        // Map.prototype.set on an existing key replaces its value in place.
                        Some(i) => {
                            if let Some(e) = entries.get_mut(i) {
                                e.1 = v;
                            }
                        }
                    }
                }
            },
            Frame::Set {
                wire, values, seen, ..
            } => {
                *wire += 1;
                if earlier(seen, values.iter(), &v).is_none() {
                    values.push(v);
                } else if self.opts.strict {
                    return Err(self.err_at(at, Kind::Malformed, "duplicate Set value"));
                }
            }
            Frame::Error {
                error,
                awaiting_cause,
                ..
            } => {
                error.cause = Some(v);
                *awaiting_cause = false;
            }
        }
        Ok(())
    }

    fn finish(&mut self, frame: Frame) -> R<Value> {
        let (id, obj) = match frame {
            Frame::Object {
                id, props, order, ..
            } => (
                id,
                Object::Object(self.take_props(id, props, !order.sorted)),
            ),
            Frame::Dense {
                id,
                len,
                elements,
                holes,
                props,
                ..
            } => {
                let properties = self.take_props(id, props, false);
                let elements = if holes.is_empty() {
                    Elements::Dense(elements)
                } else {
                    let mut holes = holes.into_iter().peekable();
                    let entries = elements
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, v)| {
                            if holes.peek() == Some(&(i as u32)) {
                                holes.next();
                                None
                            } else {
                                Some((i as u32, v))
                            }
                        })
                        .collect();
                    Elements::Sparse {
                        length: len,
                        entries,
                    }
                };
                (
                    id,
                    Object::Array(Array {
                        elements,
                        properties,
                    }),
                )
            }
            Frame::Sparse {
                id,
                length,
                mut entries,
                props,
                ..
            } => {
                entries.sort_by_key(|(i, _)| *i);
                let properties = self.take_props(id, props, false);
                (
                    id,
                    Object::Array(Array {
                        elements: Elements::Sparse { length, entries },
                        properties,
                    }),
                )
            }
            Frame::Map { id, entries, .. } => (id, Object::Map(entries)),
            Frame::Set { id, values, .. } => (id, Object::Set(values)),
            Frame::Error {
                id, wire_id, error, ..
            } => {
                if let Some(slot) = self.id_map.get_mut(wire_id) {
                    *slot = id.0;
                }
                (id, Object::Error(Box::new(error)))
            }
        };
        self.set(id, obj);
        Ok(Value::Object(id))
    }

    /// Moves the properties of the container that is ending (from `start` to the top of the
    /// shared stack) into one exactly sized vector, put in JavaScript's key order if `reorder`
    /// (an array's extra properties have no index keys, so they never need it).
    fn take_props(&mut self, id: ObjectId, start: usize, reorder: bool) -> Properties {
        let start = start.min(self.props.len());
        if start == self.props.len() {
            return Vec::new();
        }
        if self.props.len() - start >= LINEAR_KEYS {
            for (k, _) in &self.props[start..] {
                self.prop_keys.remove(&(id, k.clone()));
            }
        }
        // One exactly sized block and one copy (a drain would move the entries one by one).
        let own = self.props.split_off(start);
        if reorder {
            return js_key_order(own);
        }
        own
    }
}

/// Key equality for the duplicate scan, inlined: two inline keys (the usual case) are equal
/// exactly when their lengths and zero-padded bytes are, a few word compares instead of a call.
#[inline(always)]
fn same_key(a: &JsString, b: &JsString) -> bool {
    match (a.inline_latin1(), b.inline_latin1()) {
        (Some((x, n)), Some((y, m))) => n == m && x == y,
        _ => a == b,
    }
}

/// Up to this many properties, a new key is checked against the others by a scan.
const LINEAR_KEYS: usize = 16;

/// Whether an object's keys came in JavaScript's own-key order (array indices ascending,
/// before any other key), noted as they are read: a name key is never an index (the reader
/// canonicalises `"1"` to `1`), so the usual case needs no second look at the keys.
#[derive(Clone, Copy)]
struct KeyOrder {
    last_index: Option<u32>,
    named: bool,
    sorted: bool,
}

impl KeyOrder {
    fn new() -> Self {
        KeyOrder {
            last_index: None,
            named: false,
            sorted: true,
        }
    }

    fn note(&mut self, key: &Key) {
        match key {
            Key::Index(i) => {
                if self.named || self.last_index.is_some_and(|p| p >= *i) {
                    self.sorted = false;
                }
                self.last_index = Some(*i);
            }
            Key::Name(_) => self.named = true,
        }
    }
}

/// JavaScript's own-key order: array indices ascending first, then the other keys in the order
/// they were added. V8 writes keys in that order; other writers may not, and the graph must
/// show what a JavaScript reader would see.
fn js_key_order(props: Properties) -> Properties {
    let (mut indexed, names): (Vec<_>, Vec<_>) = props
        .into_iter()
        .partition(|(k, _)| k.array_index().is_some());
    indexed.sort_by_key(|(k, _)| k.array_index());
    indexed.extend(names);
    indexed
}
