//! Rust values as frozen JavaScript values, and a memo that hands out the same JavaScript object
//! for the same core value (`Arc`) — the core's caches return the same `Arc` on every hit, so a
//! cache hit costs a lookup instead of building the object again.

use napi::bindgen_prelude::{JsValue, Object, ObjectRef, ToNapiValue};
use napi::{check_status, sys, Env, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ffi::CStr;
use std::ptr;
use std::sync::{Arc, Weak};

unsafe fn string(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    // ASCII (nearly every claim) is Latin-1 as it is: V8 copies it without decoding UTF-8.
    let create = if s.is_ascii() {
        sys::napi_create_string_latin1
    } else {
        sys::napi_create_string_utf8
    };
    check_status!(unsafe { create(env, s.as_ptr().cast(), s.len() as isize, &mut out) })?;
    Ok(out)
}

unsafe fn freeze(env: sys::napi_env, v: sys::napi_value) -> Result<sys::napi_value> {
    check_status!(unsafe { sys::napi_object_freeze(env, v) })?;
    Ok(v)
}

/// A JSON value as a deeply frozen JavaScript value (claims are shared between callers).
pub unsafe fn frozen_json(env: sys::napi_env, v: &Value) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    match v {
        Value::Null => check_status!(unsafe { sys::napi_get_null(env, &mut out) })?,
        Value::Bool(b) => check_status!(unsafe { sys::napi_get_boolean(env, *b, &mut out) })?,
        Value::Number(n) => {
            check_status!(unsafe { sys::napi_create_double(env, n.as_f64().unwrap_or(f64::NAN), &mut out) })?
        }
        Value::String(s) => out = unsafe { string(env, s)? },
        Value::Array(a) => {
            check_status!(unsafe { sys::napi_create_array_with_length(env, a.len(), &mut out) })?;
            for (i, x) in a.iter().enumerate() {
                let e = unsafe { frozen_json(env, x)? };
                check_status!(unsafe { sys::napi_set_element(env, out, i as u32, e) })?;
            }
            out = unsafe { freeze(env, out)? };
        }
        Value::Object(m) => out = unsafe { frozen_object(env, m)? },
    }
    Ok(out)
}

/// A JSON object as a deeply frozen JavaScript object.
pub unsafe fn frozen_object(env: sys::napi_env, m: &Map<String, Value>) -> Result<sys::napi_value> {
    unsafe { freeze(env, object_of(env, m)?) }
}

/// A JSON object as a JavaScript object whose members are deeply frozen (the object itself is
/// not, so the caller can add to it before freezing it).
pub unsafe fn object_of(env: sys::napi_env, m: &Map<String, Value>) -> Result<sys::napi_value> {
    unsafe { object_with_hidden(env, m, &[]) }
}

/// [`object_of`] plus `hidden` members (read-only, non-enumerable, as [`define_hidden`]; one of
/// them replaces a member of the same name), all defined by one `napi_define_properties` call:
/// a claims object is built with a call per value and one for its members, not two per member.
pub unsafe fn object_with_hidden(
    env: sys::napi_env,
    m: &Map<String, Value>,
    hidden: &[(&CStr, sys::napi_value)],
) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_object(env, &mut out) })?;
    // The keys as NUL-terminated `utf8name`s, from which V8 makes property names directly (a key
    // holding a NUL goes as a string value instead). One buffer, filled before any pointer into
    // it is taken.
    let mut names = Vec::with_capacity(m.keys().map(|k| k.len() + 1).sum());
    for k in m.keys() {
        names.extend_from_slice(k.as_bytes());
        names.push(0);
    }
    let mut at = 0;
    let mut props = Vec::with_capacity(m.len() + hidden.len());
    for (k, x) in m {
        let (utf8name, name) = if k.as_bytes().contains(&0) {
            (ptr::null(), unsafe { string(env, k)? })
        } else {
            (names[at..].as_ptr().cast(), ptr::null_mut())
        };
        at += k.len() + 1;
        // As a plain assignment makes it (writable, enumerable, configurable): a hidden member of
        // the same name can then replace it.
        let plain = sys::PropertyAttributes::writable
            | sys::PropertyAttributes::enumerable
            | sys::PropertyAttributes::configurable;
        props.push(data_property(utf8name, name, unsafe { frozen_json(env, x)? }, plain));
    }
    for (name, v) in hidden {
        props.push(data_property(
            name.as_ptr(),
            ptr::null_mut(),
            *v,
            sys::PropertyAttributes::default,
        ));
    }
    if !props.is_empty() {
        check_status!(unsafe { sys::napi_define_properties(env, out, props.len(), props.as_ptr()) })?;
    }
    Ok(out)
}

/// A data property's descriptor: named by `utf8name` (NUL-terminated) or else by `name`.
fn data_property(
    utf8name: *const std::ffi::c_char,
    name: sys::napi_value,
    value: sys::napi_value,
    attributes: sys::napi_property_attributes,
) -> sys::napi_property_descriptor {
    sys::napi_property_descriptor {
        utf8name,
        name,
        method: None,
        getter: None,
        setter: None,
        value,
        attributes,
        data: ptr::null_mut(),
    }
}

/// Define `name` on `obj` as a read-only, non-enumerable data property: reachable by name, but
/// not in `Object.keys`, spreads or `JSON.stringify` (which keep showing the token's claims). It
/// replaces a member of the same name.
pub unsafe fn define_hidden(env: sys::napi_env, obj: sys::napi_value, name: &str, v: sys::napi_value) -> Result<()> {
    let desc = data_property(
        ptr::null(),
        unsafe { string(env, name)? },
        v,
        sys::PropertyAttributes::default,
    );
    check_status!(unsafe { sys::napi_define_properties(env, obj, 1, &desc) })?;
    Ok(())
}

pub unsafe fn null_value(env: sys::napi_env) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_get_null(env, &mut out) })?;
    Ok(out)
}

pub unsafe fn undefined_value(env: sys::napi_env) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_get_undefined(env, &mut out) })?;
    Ok(out)
}

/// A frozen array of values built by `item`.
pub unsafe fn frozen_array<T>(
    env: sys::napi_env,
    items: &[T],
    item: impl Fn(&T) -> Result<sys::napi_value>,
) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_array_with_length(env, items.len(), &mut out) })?;
    for (i, x) in items.iter().enumerate() {
        check_status!(unsafe { sys::napi_set_element(env, out, i as u32, item(x)?) })?;
    }
    unsafe { freeze(env, out) }
}

/// A frozen array of strings.
pub unsafe fn frozen_strings(env: sys::napi_env, v: &[String]) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_array_with_length(env, v.len(), &mut out) })?;
    for (i, s) in v.iter().enumerate() {
        let e = unsafe { string(env, s)? };
        check_status!(unsafe { sys::napi_set_element(env, out, i as u32, e) })?;
    }
    unsafe { freeze(env, out) }
}

/// Set `name` on `obj`.
pub unsafe fn set(env: sys::napi_env, obj: sys::napi_value, name: &str, v: sys::napi_value) -> Result<()> {
    let key = unsafe { string(env, name)? };
    check_status!(unsafe { sys::napi_set_property(env, obj, key, v) })?;
    Ok(())
}

pub unsafe fn new_object(env: sys::napi_env) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_object(env, &mut out) })?;
    Ok(out)
}

pub unsafe fn str_value(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    unsafe { string(env, s) }
}

pub unsafe fn f64_value(env: sys::napi_env, n: f64) -> Result<sys::napi_value> {
    unsafe { f64::to_napi_value(env, n) }
}

pub unsafe fn freeze_value(env: sys::napi_env, v: sys::napi_value) -> Result<sys::napi_value> {
    unsafe { freeze(env, v) }
}

/// JavaScript objects built for core values, keyed by the value's `Arc`. The `Weak` keeps the
/// allocation (so its address cannot be reused while the entry exists) and tells when the core
/// has dropped the value. Only used on the JavaScript thread.
pub struct Memo<T> {
    map: HashMap<usize, (Weak<T>, ObjectRef<false>)>,
    cap: usize,
    /// Forget dropped values at every insert (not only when full): for small memos whose objects
    /// hold secrets (tokens), so a replaced token is not kept alive by the memo.
    eager: bool,
    closed: bool,
}

impl<T> Memo<T> {
    pub fn new(cap: usize, eager: bool) -> Self {
        Memo {
            map: HashMap::new(),
            cap: cap.max(1),
            eager,
            closed: false,
        }
    }

    fn key(v: &Arc<T>) -> usize {
        Arc::as_ptr(v) as *const () as usize
    }

    /// The object built for `v` before, if any.
    pub fn get<'env>(&self, env: &'env Env, v: &Arc<T>) -> Option<Object<'env>> {
        let (w, r) = self.map.get(&Self::key(v))?;
        if w.strong_count() == 0 {
            return None;
        }
        r.get_value(env).ok()
    }

    /// The object for `v`: the one built before, or a new one from `build` (remembered).
    pub fn get_or_build(
        &mut self,
        env: &Env,
        v: &Arc<T>,
        build: impl FnOnce(sys::napi_env) -> Result<sys::napi_value>,
    ) -> Result<sys::napi_value> {
        if let Some(o) = self.get(env, v) {
            return Ok(o.raw());
        }
        let raw = build(env.raw())?;
        if self.closed {
            return Ok(raw);
        }
        if self.eager || self.map.len() >= self.cap {
            self.purge(env, false);
        }
        let obj = Object::from_raw(env.raw(), raw);
        let r = obj.create_ref::<false>()?;
        if let Some((_, old)) = self.map.insert(Self::key(v), (Arc::downgrade(v), r)) {
            let _ = old.unref(env);
        }
        Ok(raw)
    }

    /// Forget entries whose value the core has dropped; all of them when still full (or `all`).
    pub fn purge(&mut self, env: &Env, all: bool) {
        let dead: Vec<usize> = self
            .map
            .iter()
            .filter(|(_, (w, _))| all || w.strong_count() == 0)
            .map(|(k, _)| *k)
            .collect();
        for k in dead {
            if let Some((_, r)) = self.map.remove(&k) {
                let _ = r.unref(env);
            }
        }
        if self.map.len() >= self.cap {
            self.purge(env, true);
        }
    }

    /// Release every object (the owner is being finalized); later builds are not remembered.
    pub fn close(&mut self, env: &Env) {
        self.purge(env, true);
        self.closed = true;
    }
}

/// A JavaScript value built on the JavaScript thread, handed back as is.
pub struct Raw(pub sys::napi_value);

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl napi::bindgen_prelude::TypeName for Raw {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}
