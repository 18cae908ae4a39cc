// An experiment, not part of the page (issue 14; results in docs/benchmarks.md, "Tried: the
// sockets in a worker"). Loaded before the page's own scripts, it replaces `window.WebSocket`:
// every socket the page opens is opened in a dedicated worker instead, and the worker hands the
// page what arrived in batches, one batch at a time (the next only after the page has handled the
// last), so a busy page runs one task per batch instead of one per WebSocket message. What the
// page sends goes to the worker once per microtask checkpoint. It covers what the page's clients
// use (binary frames, open/message/close, `close()`), nothing more. See bench/profile/README.md.
(function () {
  var workerSource = "var sockets=new Map(),out=[],outT=[],credit=true;" +
    "function flush(){if(!credit||out.length===0)return;credit=false;var b=out,t=outT;out=[];outT=[];postMessage(b,t);}" +
    "function q(item,buf){out.push(item);if(buf)outT.push(buf);flush();}" +
    "onmessage=function(e){for(var i=0;i<e.data.length;i++){var c=e.data[i],op=c[0],id=c[1];" +
    "if(op==='ack'){credit=true;flush();continue;}" +
    "if(op==='open'){var ws;try{ws=new WebSocket(c[2],c[3]);}catch(err){q([id,'close',1006,String(err&&err.message)]);continue;}" +
    "ws.binaryType='arraybuffer';(function(id,ws){ws.onopen=function(){q([id,'open',ws.protocol]);};" +
    "ws.onmessage=function(m){q([id,'message',m.data],m.data instanceof ArrayBuffer?m.data:null);};" +
    "ws.onerror=function(){q([id,'error']);};ws.onclose=function(x){sockets.delete(id);q([id,'close',x.code,x.reason]);};})(id,ws);sockets.set(id,ws);}" +
    "else if(op==='send'){var s=sockets.get(id);if(s&&s.readyState===1)s.send(c[2]);}" +
    "else if(op==='close'){var s2=sockets.get(id);if(s2)s2.close();}}};";
  var worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' })));
  var sockets = new Map();
  var nextId = 1;
  var pending = [], pendingT = [], scheduled = false;
  function post(cmd, buf) {
    pending.push(cmd);
    if (buf) pendingT.push(buf);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(function () {
        scheduled = false;
        var b = pending, t = pendingT;
        pending = []; pendingT = [];
        worker.postMessage(b, t);
      });
    }
  }
  worker.onmessage = function (e) {
    var batch = e.data;
    for (var i = 0; i < batch.length; i++) {
      var s = sockets.get(batch[i][0]);
      if (s) s._deliver(batch[i]);
    }
    post(['ack', 0]);
  };
  var Native = window.WebSocket;
  function RelaySocket(url, protocols) {
    var target = new EventTarget();
    var self = this;
    ['addEventListener', 'removeEventListener', 'dispatchEvent'].forEach(function (m) { self[m] = target[m].bind(target); });
    this.url = url; this.readyState = 0; this.binaryType = 'blob'; this.protocol = ''; this.extensions = '';
    this.bufferedAmount = 0; this.onopen = null; this.onmessage = null; this.onclose = null; this.onerror = null;
    this._id = nextId++;
    sockets.set(this._id, this);
    post(['open', this._id, url, protocols]);
  }
  RelaySocket.prototype = Object.create(Native.prototype, {});
  ['url', 'readyState', 'binaryType', 'protocol', 'extensions', 'bufferedAmount', 'onopen', 'onmessage', 'onclose', 'onerror'].forEach(function (p) {
    Object.defineProperty(RelaySocket.prototype, p, { value: undefined, writable: true, configurable: true });
  });
  RelaySocket.prototype.send = function (data) {
    var buf = data instanceof ArrayBuffer ? data.slice(0)
      : ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data;
    post(['send', this._id, buf], buf instanceof ArrayBuffer ? buf : null);
  };
  RelaySocket.prototype.close = function () { if (this.readyState < 2) this.readyState = 2; post(['close', this._id]); };
  RelaySocket.prototype._fire = function (ev) {
    var h = this['on' + ev.type];
    if (typeof h === 'function') h.call(this, ev);
    this.dispatchEvent(ev);
  };
  RelaySocket.prototype._deliver = function (m) {
    var type = m[1];
    if (type === 'open') { this.readyState = 1; this.protocol = m[2]; this._fire(new Event('open')); }
    else if (type === 'message') this._fire(new MessageEvent('message', { data: m[2] }));
    else if (type === 'error') this._fire(new Event('error'));
    else if (type === 'close') { this.readyState = 3; sockets.delete(this._id); this._fire(new CloseEvent('close', { code: m[2], reason: m[3], wasClean: m[2] === 1000 })); }
  };
  RelaySocket.CONNECTING = 0; RelaySocket.OPEN = 1; RelaySocket.CLOSING = 2; RelaySocket.CLOSED = 3;
  window.WebSocket = RelaySocket;
})();
