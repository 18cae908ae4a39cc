// The in-page broker's worker (docs/decisions/0016): its glue initialised with one object.
importScripts('./inpage-broker.js');
wasm_bindgen({ module_or_path: './inpage-broker_bg.wasm' });
