//! Offering text the page made (an SVG, a recording) as a file download.

use gloo::file::{Blob, ObjectUrl};
use wasm_bindgen::JsCast;

/// Offers `text` as a file download named `name` of type `mime`, through an object URL
/// (revoked when this returns; the browser has started the download by then).
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    let url = ObjectUrl::from(Blob::new_with_options(text, Some(mime)));
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    Ok(())
}
