//! Shared by the clone test suites: loading the golden vectors and building the graphs they
//! describe (see tests/vectors/generate.mjs for the JSON shape).
#![allow(dead_code)]

use serde_json::Value as Json;
use webmessaging_core::clone::{
    Array, ArrayBuffer, ArrayBufferView, DecodeOptions, Elements, ErrorName, ErrorObject, Graph,
    JsBigInt, JsString, Limits, Object, ObjectId, RegExp, RegExpFlags, Value, ViewKind,
};
use webmessaging_core::{MessageChannel, MessagePort};

pub struct Vector {
    pub name: String,
    pub node_mode: bool,
    pub bytes: Vec<u8>,
    pub graph: Json,
    pub transfer_buffers: Vec<Vec<u8>>,
    pub ports: usize,
    /// Why V8's bytes are not the canonical encoding of the value, if they are not.
    pub noncanonical: Option<String>,
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn vectors_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/v8-vectors.json")
}

pub fn load() -> Vec<Vector> {
    let text = std::fs::read_to_string(vectors_path()).expect("read the vector file");
    let doc: Json = serde_json::from_str(&text).expect("parse the vector file");
    doc["vectors"]
        .as_array()
        .expect("vectors array")
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            node_mode: v["mode"] == "node",
            bytes: hex(v["hex"].as_str().unwrap()),
            graph: v["graph"].clone(),
            transfer_buffers: v["transfer_buffers"]
                .as_array()
                .map(|a| a.iter().map(|h| hex(h.as_str().unwrap())).collect())
                .unwrap_or_default(),
            ports: v["ports"].as_u64().unwrap_or(0) as usize,
            noncanonical: v["noncanonical"].as_str().map(str::to_owned),
        })
        .collect()
}

impl Vector {
    /// The reader options for this vector. V8 writes sparse arrays of any length (one vector
    /// is 2^32 - 1 long in 15 bytes), beyond our default sparse budget: vectors lift it.
    pub fn options(&self) -> DecodeOptions {
        let mut options = if self.node_mode {
            DecodeOptions::node_serialize()
        } else {
            DecodeOptions::default()
        };
        options.limits = relaxed();
        options
    }
}

/// The default limits without the sparse-array budget.
pub fn relaxed() -> Limits {
    Limits {
        sparse_length_base: usize::MAX,
        ..Limits::default()
    }
}

/// Fresh ports for a vector's port table (the far ends are returned to keep them alive).
pub fn port_table(n: usize) -> (Vec<MessagePort>, Vec<MessagePort>) {
    (0..n).map(|_| MessageChannel::new().into_ports()).unzip()
}

pub fn string(j: &Json) -> JsString {
    if let Some(s) = j.get("s").and_then(Json::as_str) {
        return JsString::from(s);
    }
    let units: Vec<u16> = j["u"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_u64().unwrap() as u16)
        .collect();
    JsString::from_utf16(units)
}

pub fn number(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        "-0" => -0.0,
        _ => s.parse().unwrap_or_else(|_| panic!("number {s}")),
    }
}

/// Builds the graph a vector describes. Transferred buffers become the first objects (as the
/// decoder lays them out), ports come from `ports`.
pub fn build(desc: &Json, transfer_buffers: &[Vec<u8>], ports: &[MessagePort]) -> Graph {
    let mut g = Graph::new();
    for b in transfer_buffers {
        g.add(Object::ArrayBuffer(ArrayBuffer::new(b.clone())));
    }
    let base = transfer_buffers.len() as u32;
    let objects = desc["objects"].as_array().unwrap();
    // Reserve ids first so references can point forward.
    for _ in objects {
        g.add(Object::Object(Vec::new()));
    }
    let id_of = |j: &Json| -> ObjectId {
        let i = j.as_u64().unwrap() as u32;
        match &objects[i as usize] {
            o if o["k"] == "ArrayBuffer" && o.get("transferred").is_some() => {
                ObjectId(o["transferred"].as_u64().unwrap() as u32)
            }
            _ => ObjectId(base + i),
        }
    };
    let value = |j: &Json| -> Value {
        match j["t"].as_str().unwrap() {
            "undefined" => Value::Undefined,
            "null" => Value::Null,
            "bool" => Value::Bool(j["v"].as_bool().unwrap()),
            "number" => Value::Number(number(j["v"].as_str().unwrap())),
            "bigint" => Value::BigInt(j["v"].as_str().unwrap().parse::<JsBigInt>().unwrap()),
            "string" => Value::String(string(j)),
            "ref" => Value::Object(id_of(&j["id"])),
            t => panic!("unknown value type {t}"),
        }
    };
    let props = |j: &Json| -> Vec<(JsString, Value)> {
        j.as_array()
            .unwrap()
            .iter()
            .map(|p| (string(&p[0]), value(&p[1])))
            .collect()
    };
    for (i, o) in objects.iter().enumerate() {
        let obj = match o["k"].as_str().unwrap() {
            "Object" => Object::Object(props(&o["props"])),
            "Array" => {
                let elements = if o["dense"].as_bool().unwrap() {
                    Elements::Dense(
                        o["elements"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(value)
                            .collect(),
                    )
                } else {
                    Elements::Sparse {
                        length: o["length"].as_u64().unwrap() as u32,
                        entries: o["entries"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|e| (e[0].as_u64().unwrap() as u32, value(&e[1])))
                            .collect(),
                    }
                };
                Object::Array(Array {
                    elements,
                    properties: props(&o["props"]),
                })
            }
            "Error" => Object::Error(Box::new(ErrorObject {
                name: ErrorName::from_name(o["name"].as_str().unwrap()),
                message: o.get("message").map(string),
                stack: o.get("stack").map(string),
                cause: o.get("cause").map(value),
            })),
            "Boolean" => Object::BooleanObject(o["v"].as_bool().unwrap()),
            "Number" => Object::NumberObject(number(o["v"].as_str().unwrap())),
            "BigInt" => Object::BigIntObject(o["v"].as_str().unwrap().parse().unwrap()),
            "String" => Object::StringObject(string(o)),
            "Date" => Object::Date(number(o["v"].as_str().unwrap())),
            "RegExp" => Object::RegExp(RegExp {
                source: string(&o["source"]),
                flags: RegExpFlags::parse(o["flags"].as_str().unwrap()).unwrap(),
            }),
            "ArrayBuffer" if o.get("transferred").is_some() => continue,
            "ArrayBuffer" => Object::ArrayBuffer(ArrayBuffer {
                data: hex(o["hex"].as_str().unwrap()),
                max_byte_length: o["max"].as_u64().map(|m| m as u32),
                detached: false,
            }),
            "View" => Object::View(ArrayBufferView {
                kind: ViewKind::from_name(o["type"].as_str().unwrap()).unwrap(),
                buffer: id_of(&o["buffer"]),
                byte_offset: o["offset"].as_u64().unwrap() as u32,
                byte_length: o["length"].as_u64().unwrap() as u32,
                length_tracking: o["tracking"].as_bool().unwrap(),
            }),
            "Map" => Object::Map(
                o["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| (value(&e[0]), value(&e[1])))
                    .collect(),
            ),
            "Set" => Object::Set(o["values"].as_array().unwrap().iter().map(value).collect()),
            "Port" => Object::MessagePort(ports[o["index"].as_u64().unwrap() as usize].clone()),
            k => panic!("unknown object kind {k}"),
        };
        *g.get_mut(ObjectId(base + i as u32)).unwrap() = obj;
    }
    g.root = value(&desc["root"]);
    g
}
