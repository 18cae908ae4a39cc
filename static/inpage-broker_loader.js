// The in-page broker's Web Worker (frontend/src/in_page_broker.rs starts it as
// ./inpage-broker_loader.js): loads wasm-bindgen's glue for the `inpage-broker` crate, built by
// Trunk beside this file, and initialises it with a single object, the form wasm-bindgen asks
// for (Trunk's own loader shim passed the path alone, and the glue warned "using deprecated
// parameters for the initialization function; pass a single object instead" on every start).
importScripts('./inpage-broker.js');
wasm_bindgen({ module_or_path: './inpage-broker_bg.wasm' });
