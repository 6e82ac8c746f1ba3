"""The walls around hostile JavaScript: one V8 context, bounded in time and memory.

Transformation code is hostile code (DESIGN §9).  mini-racer gives each context its own
isolate and thread, a timeout for an eval, and a memory limit that V8 checks after each
garbage collection against the JavaScript heap.  Three things escaped those limits, and
this module closes them:

* **Work after the call.**  V8 runs the promise jobs (microtasks) that a call leaves
  behind after the eval has answered, and timers, finalizers and asynchronous
  WebAssembly run later still, all outside any timeout: an endless chain of promise
  jobs kept a core busy for good.  Here a call is the eval *and* a second, empty eval
  that V8 can only take once the microtasks are drained, both under one timeout; and
  the prelude takes away everything that schedules JavaScript for later
  (``setTimeout``, ``FinalizationRegistry``, ``WebAssembly``, ``Atomics.wait[Async]``,
  ``SharedArrayBuffer``).  A context that overran is closed, which terminates whatever
  it still runs.
* **ArrayBuffers.**  Their bytes live outside the heap that the memory limit measures.
  The prelude replaces every way to make one (the ``ArrayBuffer`` and typed array
  constructors and the methods that copy) with one that first charges a ledger of the
  bytes the context's live buffers hold, and refuses past the limit: nothing is
  allocated, the execution fails, the context is closed.
* **Contexts shared between projects** are the caller's to avoid (see
  ``transformations``): a context serves one project.

A context's JavaScript calls go through ``__run``, which the prelude defines out of
reach of the code (not writable, not configurable), over the ledger that only it and
the wrapped constructors see.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from contextlib import AbstractContextManager

from py_mini_racer import MiniRacer, mini_racer
from py_mini_racer._exc import JSOOMException, JSTimeoutException, MiniRacerBaseException

MAX_LOG_LINES = 100
MAX_LOG_LINE = 2_000

_PRELUDE = r"""
var __handlers = {};
var __logs = [];
function addHandler(name, fn) { __handlers[name] = fn; }
function __log(level) {
  return function () {
    if (__logs.length >= %(max_lines)d) return;
    var parts = [];
    for (var i = 0; i < arguments.length; i++) {
      var a = arguments[i];
      if (typeof a === 'string') { parts.push(a); continue; }
      try { parts.push(JSON.stringify(a)); } catch (e) { parts.push(String(a)); }
    }
    __logs.push((level === 'log' ? '' : level + ': ') + parts.join(' ').slice(0, %(max_line)d));
  };
}
var console = {log: __log('log'), info: __log('info'), warn: __log('warn'),
               error: __log('error'), debug: __log('debug')};
var process = {env: %(env)s};
var setTimeout = undefined, clearTimeout = undefined, __timer_manager = undefined;

(function (global, limit, maxOutput) {
  'use strict';
  // Everything used after the code has run is taken now: the code may replace any
  // global or prototype method, and must never be handed an original constructor.
  var apply = Reflect.apply, construct = Reflect.construct;
  var defineProperty = Object.defineProperty, describe = Object.getOwnPropertyDescriptor;
  var getPrototypeOf = Object.getPrototypeOf, setPrototypeOf = Object.setPrototypeOf;
  var WeakRef_ = WeakRef, deref = WeakRef.prototype.deref;
  var RangeError_ = RangeError, TypeError_ = TypeError, Error_ = Error, String_ = String;
  var parse = JSON.parse, stringify = JSON.stringify, now = Date.now;
  var ceil = Math.ceil, floor = Math.floor;
  var species = Symbol.species, iteratorSymbol = Symbol.iterator;
  var ArrayBuffer_ = ArrayBuffer, ArrayBufferProto = ArrayBuffer.prototype;
  var abMaxLength = describe(ArrayBufferProto, 'maxByteLength').get;
  var abLength = describe(ArrayBufferProto, 'byteLength').get;
  var TypedArray = getPrototypeOf(Uint8Array), TypedArrayProto = TypedArray.prototype;
  var taBuffer = describe(TypedArrayProto, 'buffer').get;
  var taLength = describe(TypedArrayProto, 'length').get;
  var taByteLength = describe(TypedArrayProto, 'byteLength').get;
  var taSet = TypedArrayProto.set, Uint8Array_ = Uint8Array;

  // Nothing may run once a call has returned, and nothing may block a thread.
  delete global.SharedArrayBuffer;
  delete global.WebAssembly;
  delete global.FinalizationRegistry;
  delete Atomics.wait;
  delete Atomics.waitAsync;

  function put(array, index, value) {  // past any setter the code put on Array.prototype
    defineProperty(array, index, {__proto__: null, value: value, writable: true,
                                  enumerable: true, configurable: true});
  }

  // The ledger: weak references to everything made that holds memory outside the heap
  // (ArrayBuffers, Intl objects and their ICU data), and the bytes each holds.  Within a
  // call V8 keeps each referenced object alive, so a call's objects all count.
  var refs = [], sizes = [], count = 0, used = 0, overran = false, running = false;
  var refused = 'the transformation used more than ' + (limit / 1048576) +
                ' MiB (ArrayBuffers and Intl objects included)';
  function bytesOf(buffer) {
    try { return apply(abMaxLength, buffer, []); } catch (e) { return 0; }
  }
  function isBuffer(value) {
    try { apply(abLength, value, []); return true; } catch (e) { return false; }
  }
  function isTypedArray(value) {
    try { apply(taLength, value, []); return true; } catch (e) { return false; }
  }
  function sweep() {
    var kept = 0;
    used = 0;
    for (var i = 0; i < count; i++) {
      var held = apply(deref, refs[i], []);
      if (held !== undefined) {
        used += sizes[i] >= 0 ? sizes[i] : bytesOf(held);  // a buffer's size may change
        put(refs, kept, refs[i]);
        put(sizes, kept, sizes[i]);
        kept++;
      }
    }
    count = kept;
  }
  function charge(bytes) {
    if (!(bytes > 0)) return;  // V8 refuses negative and NaN lengths itself
    if (used + bytes > limit) {
      sweep();
      if (used + bytes > limit) {
        overran = true;
        throw new RangeError_(refused);
      }
    }
    used += bytes;
  }
  function record(held, bytes) {  // bytes: undefined for a buffer, measured at each sweep
    put(refs, count, new WeakRef_(held));
    put(sizes, count, bytes === undefined ? -1 : bytes);
    count++;
  }
  function named(fn, name, length) {
    defineProperty(fn, 'name', {__proto__: null, value: name, configurable: true});
    defineProperty(fn, 'length', {__proto__: null, value: length, configurable: true});
    return fn;
  }
  function method(object, name, fn) {
    defineProperty(object, name, {__proto__: null, value: named(fn, name, fn.length),
                                  writable: true, enumerable: false, configurable: true});
  }
  function swap(holder, name, Original, Wrapped) {
    defineProperty(Wrapped, 'prototype', {__proto__: null, value: Original.prototype,
                                          writable: false, enumerable: false,
                                          configurable: false});
    defineProperty(Original.prototype, 'constructor', {__proto__: null, value: Wrapped,
                                                       writable: true, enumerable: false,
                                                       configurable: true});
    defineProperty(holder, name, {__proto__: null, value: Wrapped, writable: true,
                                  enumerable: false, configurable: true});
  }

  // Lengths are converted here once, and V8 gets the number: a valueOf or a getter
  // cannot answer the ledger one length and V8 another.
  var ArrayBufferWrapped = named(function (length, options) {
    if (new.target === undefined) throw new TypeError_("Constructor ArrayBuffer requires 'new'");
    var n = +length, max;
    if (options !== null && (typeof options === 'object' || typeof options === 'function')) {
      var given = options.maxByteLength;
      if (given !== undefined) max = +given;
    }
    charge(max > n ? max : n);
    var args = max === undefined ? [n] : [n, {__proto__: null, maxByteLength: max}];
    var target = new.target === ArrayBufferWrapped ? ArrayBuffer_ : new.target;
    var made = construct(ArrayBuffer_, args, target);
    record(made);
    return made;
  }, 'ArrayBuffer', 1);
  ArrayBufferWrapped.isView = ArrayBuffer.isView;
  var getSpecies = named(function () { return this; }, 'get [Symbol.species]', 0);
  defineProperty(ArrayBufferWrapped, species, {__proto__: null, configurable: true,
                                               get: getSpecies});
  swap(global, 'ArrayBuffer', ArrayBuffer_, ArrayBufferWrapped);

  function relative(value, length) {
    var n = +value;
    n = n !== n ? 0 : n < 0 ? ceil(n) : floor(n);
    return n < 0 ? (length + n > 0 ? length + n : 0) : (n < length ? n : length);
  }
  var sliceOriginal = ArrayBufferProto.slice;
  method(ArrayBufferProto, 'slice', function (start, end) {
    var length = apply(abLength, this, []);
    var first = relative(start, length);
    var last = end === undefined ? length : relative(end, length);
    var n = last > first ? last - first : 0;
    charge(n);
    var made = construct(ArrayBuffer_, [n], ArrayBuffer_);
    record(made);
    if (n > 0) apply(taSet, construct(Uint8Array_, [made], Uint8Array_),
                     [construct(Uint8Array_, [this, first, n], Uint8Array_)]);
    return made;
  });
  ['transfer', 'transferToFixedLength'].forEach(function (name) {
    var original = ArrayBufferProto[name];
    method(ArrayBufferProto, name, function () {
      var n = arguments.length > 0 && arguments[0] !== undefined ? +arguments[0] : undefined;
      var max = apply(abMaxLength, this, []);
      charge(n === undefined || max > n ? max : n);
      var made = apply(original, this, n === undefined ? [] : [n]);
      record(made);
      return made;
    });
  });

  // An iterable or an array-like, read once, in interruptible JavaScript: V8's own
  // loops over a huge array-like do not stop for the CPU or memory limit, and their
  // tables can grow past V8's maximum, which aborts the process.
  function fromObject(Original, target, size, source) {
    var made, n, i, iterate = source[iteratorSymbol];
    if (iterate !== undefined && iterate !== null) {
      var values = [], iterator = apply(iterate, source, []), next = iterator.next, step;
      for (n = 0; !(step = apply(next, iterator, [])).done; n++) {
        charge(size);
        put(values, n, step.value);
      }
      made = construct(Original, [n], target);
      for (i = 0; i < n; i++) made[i] = values[i];
      return made;
    }
    n = +source.length;
    n = n > 0 ? floor(n) : 0;
    charge(n * size);
    made = construct(Original, [n], target);
    for (i = 0; i < n; i++) made[i] = source[i];
    return made;
  }

  function wrapTypedArray(name) {
    var Original = global[name], size = Original.BYTES_PER_ELEMENT;
    var Wrapped = named(function (a, b, c) {
      if (new.target === undefined) throw new TypeError_("Constructor " + name + " requires 'new'");
      var target = new.target === Wrapped ? Original : new.target, made;
      if (a !== null && (typeof a === 'object' || typeof a === 'function')) {
        if (isBuffer(a)) return construct(Original, [a, b, c], target);  // a view: no bytes
        if (isTypedArray(a)) {
          charge(apply(taLength, a, []) * size);
          made = construct(Original, [a], target);
        } else {
          made = fromObject(Original, target, size, a);
        }
      } else {
        var n = +a;
        charge(n * size);
        made = construct(Original, [n], target);
      }
      record(apply(taBuffer, made, []));
      return made;
    }, name, 3);
    // from, of and the species getter come from %%TypedArray%% and make through Wrapped
    setPrototypeOf(Wrapped, TypedArray);
    defineProperty(Wrapped, 'BYTES_PER_ELEMENT', {__proto__: null, value: size});
    ['fromBase64', 'fromHex'].forEach(function (maker) {
      var original = Original[maker];
      if (typeof original !== 'function') return;
      method(Wrapped, maker, function (text) {
        if (typeof text === 'string') {
          charge(maker === 'fromHex' ? text.length / 2 : text.length * 3 / 4);
        }
        var made = apply(original, Original, arguments);
        record(apply(taBuffer, made, []));
        return made;
      });
    });
    swap(global, name, Original, Wrapped);
  }
  ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
   'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array',
   'BigUint64Array'].forEach(function (name) {
    if (typeof global[name] === 'function') wrapTypedArray(name);
  });
  // Copies that V8 makes with the intrinsic constructor (or with the species one, which
  // the code can point back at the intrinsic by setting .constructor to undefined).
  ['slice', 'map', 'filter', 'toReversed', 'toSorted', 'with'].forEach(function (name) {
    var original = TypedArrayProto[name];
    if (typeof original !== 'function') return;
    method(TypedArrayProto, name, function () {
      charge(apply(taByteLength, this, []));
      var made = apply(original, this, arguments);
      record(apply(taBuffer, made, []));
      return made;
    });
  });

  // V8 runs the array methods over an array's length in C++, where the limits cannot
  // stop it: over a sparse array of length 2 ** 32 - 1 for minutes, and a length past
  // what the heap could hold grows a table past V8's maximum, which aborts the whole
  // process.  A real array of at most SHORT elements is taken as it is (its length is
  // its own and cannot lie, and such loops are short).  Anything else is seen by V8
  // through a proxy whose traps are JavaScript, where the limits do stop it, with its
  // length read once and refused past a 64th of the limit in elements: through a proxy
  // each index becomes a string, and more would not fit.
  var Proxy_ = Proxy, Object_ = Object, ArrayProto = Array.prototype, arrayFrom = Array.from;
  var isArray = Array.isArray, WeakSet_ = WeakSet, weakAdd = WeakSet.prototype.add;
  var weakHas = WeakSet.prototype.has, proxies = new WeakSet_();
  var elements = limit / 64, SHORT = 65536;
  // The code's proxies are known, so that a proxy cannot pass for a real array.
  var ProxyWrapped = named(function (target, handler) {
    if (new.target === undefined) throw new TypeError_("Constructor Proxy requires 'new'");
    var made = new Proxy_(target, handler);
    apply(weakAdd, proxies, [made]);
    return made;
  }, 'Proxy', 2);
  var revocable = Proxy_.revocable;
  method(ProxyWrapped, 'revocable', function (target, handler) {
    var made = apply(revocable, Proxy_, [target, handler]);
    apply(weakAdd, proxies, [made.proxy]);
    return made;
  });
  defineProperty(global, 'Proxy', {__proto__: null, value: ProxyWrapped, writable: true,
                                   enumerable: false, configurable: true});
  function lengthOf(object) {
    var n = +object.length;
    return n > 0 ? floor(n) : 0;
  }
  function refuse() {
    overran = true;
    throw new RangeError_(refused);
  }
  function bounded(object) {
    var n = lengthOf(object);
    if (n > elements) refuse();
    return new Proxy_(object, {
      __proto__: null,
      get: function (target, key) { return key === 'length' ? n : target[key]; },
      set: function (target, key, value) { target[key] = value; return true; }
    });
  }
  function viewOf(object) {
    if (isArray(object) && !apply(weakHas, proxies, [object]) && object.length <= SHORT) {
      return object;
    }
    return bounded(object);
  }
  ['at', 'concat', 'copyWithin', 'fill', 'find', 'findIndex', 'findLast', 'findLastIndex',
   'lastIndexOf', 'pop', 'push', 'reverse', 'shift', 'unshift', 'slice', 'sort', 'splice',
   'includes', 'indexOf', 'join', 'forEach', 'filter', 'map', 'every', 'some', 'reduce',
   'reduceRight', 'toReversed', 'toSorted', 'toSpliced', 'with',
   'toLocaleString'].forEach(function (name) {
    var original = ArrayProto[name];
    if (typeof original !== 'function') return;
    method(ArrayProto, name, function () {
      if (this === null || this === undefined) {
        throw new TypeError_('Array.prototype.' + name + ' called on null or undefined');
      }
      var object = Object_(this), view = viewOf(object);
      var made = apply(original, view, arguments);
      return made === view ? object : made;  // fill, copyWithin, reverse, sort: this
    });
  });
  // flat and flatMap walk nested arrays too, whatever their length: here, in JavaScript.
  function flatten(into, count, source, depth, mapper, thisArg) {
    var n = lengthOf(source);
    if (n > elements) refuse();
    for (var i = 0; i < n; i++) {
      if (!(i in source)) continue;
      var element = source[i];
      if (mapper !== undefined) element = apply(mapper, thisArg, [element, i, source]);
      if (depth > 0 && isArray(element)) {
        count = flatten(into, count, element, depth - 1, undefined, undefined);
      } else {
        put(into, count++, element);
      }
    }
    return count;
  }
  method(ArrayProto, 'flat', function (depth) {
    if (this === null || this === undefined) {
      throw new TypeError_('Array.prototype.flat called on null or undefined');
    }
    var d = depth === undefined ? 1 : +depth, into = [];
    flatten(into, 0, Object_(this), d !== d ? 0 : d, undefined, undefined);
    return into;
  });
  method(ArrayProto, 'flatMap', function (mapper, thisArg) {
    if (this === null || this === undefined) {
      throw new TypeError_('Array.prototype.flatMap called on null or undefined');
    }
    if (typeof mapper !== 'function') throw new TypeError_('flatMap mapper is not a function');
    var into = [];
    flatten(into, 0, Object_(this), 1, mapper, thisArg);
    return into;
  });
  // split makes its array in C++ too, and aborted the process past V8's maximum
  // ('ab'.repeat(2 ** 27).split('')): it may make one element more than an eighth of
  // the limit (a pointer each), and one more is refused.
  var pieces = limit / 8;
  function splitter(original) {
    return function (input, limit) {
      var wanted = limit === undefined ? 4294967295 : limit >>> 0;
      var made = apply(original, this, [input, wanted > pieces ? pieces + 1 : wanted]);
      if (wanted > pieces && made.length > pieces) refuse();
      return made;
    };
  }
  method(String.prototype, 'split', (function (original) {
    var split = splitter(original);
    return function split_(separator, limit) { return apply(split, this, [separator, limit]); };
  })(String.prototype.split));
  var regexpSplit = RegExp.prototype[Symbol.split];
  defineProperty(RegExp.prototype, Symbol.split, {__proto__: null, writable: true,
    enumerable: false, configurable: true,
    value: named(splitter(regexpSplit), '[Symbol.split]', 2)});
  method(Array, 'from', function (items) {
    var args = [items, arguments[1], arguments[2]];
    if (items !== null && items !== undefined) {
      var object = Object_(items), iterate = object[iteratorSymbol];
      if (iterate === undefined || iterate === null) {
        args[0] = bounded(object);
      } else {  // V8 must use the iterator read here, not read another
        args[0] = {__proto__: null};
        defineProperty(args[0], iteratorSymbol, {__proto__: null, value: function () {
          return apply(iterate, object, []);
        }});
      }
    }
    return apply(arrayFrom, this, args);
  });

  // Intl objects hold ICU data outside the heap, up to 26 KB for a DateTimeFormat under
  // a 90-byte wrapper: each is charged a flat INTL bytes, a segmentation 4 KiB.
  var Intl_ = global.Intl, INTL = 32768, SEGMENTS = 4096;
  if (Intl_ !== undefined) {
    delete Intl_.v8BreakIterator;  // not a standard API
    var Segmenter_ = Intl_.Segmenter;
    if (typeof Segmenter_ === 'function') {
      var segment = Segmenter_.prototype.segment;
      var SegmentsProto = getPrototypeOf(apply(segment, new Segmenter_(), ['']));
      var iterate = SegmentsProto[Symbol.iterator];
      method(Segmenter_.prototype, 'segment', function (text) {
        charge(SEGMENTS);
        var made = apply(segment, this, arguments);
        record(made, SEGMENTS);
        return made;
      });
      defineProperty(SegmentsProto, Symbol.iterator, {__proto__: null, writable: true,
        enumerable: false, configurable: true, value: named(function () {
          charge(SEGMENTS);
          var made = apply(iterate, this, arguments);
          record(made, SEGMENTS);
          return made;
        }, '[Symbol.iterator]', 0)});
    }
    ['Collator', 'DateTimeFormat', 'DisplayNames', 'DurationFormat', 'ListFormat', 'Locale',
     'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter'].forEach(function (name) {
      var Original = Intl_[name];
      if (typeof Original !== 'function') return;
      var Wrapped = named(function () {
        charge(INTL);
        var made = new.target === undefined
          ? apply(Original, undefined, arguments)
          : construct(Original, arguments, new.target === Wrapped ? Original : new.target);
        record(made, INTL);
        return made;
      }, name, Original.length);
      if (typeof Original.supportedLocalesOf === 'function') {
        method(Wrapped, 'supportedLocalesOf', Original.supportedLocalesOf);
      }
      swap(Intl_, name, Original, Wrapped);
    });
  }

  // One call: the handler on each request of a JSON array, each in its own try, with
  // its own console lines and milliseconds; answers a JSON array whose first element
  // says whether the context overran the ledger (it is then closed) and the bytes the
  // ledger holds, and the others are the outcomes.  One eval per batch: an eval costs
  // far more than the handler.
  function run(requestsJson) {
    if (running) throw new Error_('__run cannot be called from a transformation');
    running = true;
    try {
      if (count > 0) sweep();  // what earlier calls still hold counts against this one
      var requests = parse(requestsJson), out = '';
      var handler = __handlers.transform, env = process.env;
      for (var i = 0; i < requests.length; i++) {
        __logs = [];
        var started = now(), wasOver = overran, item, text;
        try {
          if (typeof handler !== 'function') {
            throw new Error_("the code does not call " +
                             "addHandler('transform', (request, context) => ...)");
          }
          var result = handler(requests[i], {env: env});
          if (result && typeof result.then === 'function') {
            throw new Error_('the transform handler returned a Promise; ' +
                             'it must return the request');
          }
          item = {ok: true, request: result === undefined ? null : result, logs: __logs,
                  ms: now() - started};
        } catch (e) {
          item = {ok: false, error: String_(e && e.stack ? e.stack : e), logs: __logs,
                  ms: now() - started};
        }
        if (overran && !wasOver) item = {ok: false, error: refused, logs: __logs, ms: item.ms};
        try {
          text = stringify(item);
        } catch (e) {
          text = stringify({ok: false, logs: __logs, ms: item.ms,
                            error: 'the returned request is not JSON: ' + String_(e)});
        }
        if (typeof text !== 'string' || text.length > maxOutput) {
          text = stringify({ok: false, logs: __logs, ms: item.ms,
                            error: 'the result is larger than ' + maxOutput + ' bytes'});
        }
        out += (i > 0 ? ',' : '') + text;
      }
      var status = '{"overran":' + (overran ? 'true' : 'false') + ',"held":' + used + '}';
      return '[' + status + (i > 0 ? ',' + out : '') + ']';
    } finally {
      running = false;
    }
  }
  defineProperty(global, '__run', {__proto__: null, value: run, writable: false,
                                   enumerable: false, configurable: false});
})(globalThis, %(memory)d, %(max_output)d);
"""


_PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """The process's resident memory (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


class LimitHit(Exception):
    """The call overran its CPU time or memory: the context is unusable."""


class CodeFailed(Exception):
    """The eval failed (a syntax error, an uncaught exception)."""


class CallbackLoop:
    """The event loop on which mini-racer reports results, one for every context of a
    runtime (mini-racer would otherwise start a loop and a thread per context), and on
    which a context can be closed at once: the loop outlives it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="javascript-callbacks", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class Sandbox:
    """One V8 context with the prelude's walls, for one project's code and environment."""

    def __init__(
        self,
        callbacks: CallbackLoop,
        env: dict[str, str],
        cpu_seconds: float,
        memory_bytes: int,
        output_bytes: int,
    ) -> None:
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self._resident_mark = resident_bytes()  # the process's size at the last look
        self.heap_bytes = 0  # the heap's size when last measured (when it had grown)
        self.held_bytes = 0  # what the ledger held after the last call
        self._loop = callbacks.loop
        self._made: AbstractContextManager[MiniRacer] | None = mini_racer(self._loop)
        self._racer = self._made.__enter__()
        try:
            self._racer.set_hard_memory_limit(memory_bytes)
            self.call(
                _PRELUDE
                % {
                    "max_lines": MAX_LOG_LINES,
                    "max_line": MAX_LOG_LINE,
                    "env": json.dumps(env),
                    "memory": memory_bytes,
                    "max_output": output_bytes,
                }
            )
        except BaseException:
            self.close()
            raise

    def call(self, code: str) -> object:
        """Evaluate ``code`` and let every promise job it left run, all within the CPU
        limit; raise LimitHit (the context must be closed) or CodeFailed."""
        racer = self._racer

        async def fenced() -> object:
            result = await racer.eval_cancelable(code)
            # The context's thread drains the microtasks after each task it runs, so it
            # takes this one only when the code's promise jobs are all done.
            await racer.eval_cancelable("0")
            return result

        async def bounded() -> object:
            try:
                return await asyncio.wait_for(fenced(), self.cpu_seconds)
            except TimeoutError as exc:
                raise JSTimeoutException() from exc

        try:
            result = asyncio.run_coroutine_threadsafe(bounded(), self._loop).result()
        except JSTimeoutException as exc:
            raise LimitHit(f"the transformation ran longer than {self.cpu_seconds:g} s") from exc
        except MiniRacerBaseException as exc:
            if isinstance(exc, JSOOMException) or racer.was_hard_memory_limit_reached():
                raise LimitHit(self.memory_error()) from exc
            raise CodeFailed(str(exc) or type(exc).__name__) from exc
        if racer.was_hard_memory_limit_reached():  # in a promise job after the result
            raise LimitHit(self.memory_error())
        self._check_heap()
        return result

    def _check_heap(self) -> None:
        """V8 checks its heap limit only after a collection, and one string or array can
        pass it in a single allocation: when the process grew by half the limit since the
        last look, measure the heap (a millisecond: not on every call), and past the
        limit collect, so that only what the code keeps counts."""
        resident = resident_bytes()
        if resident - self._resident_mark <= self.memory_bytes // 2:
            self._resident_mark = min(self._resident_mark, resident)
            return
        racer = self._racer
        self.heap_bytes = int(racer.heap_stats()["used_heap_size"])
        if self.heap_bytes > self.memory_bytes:
            racer.low_memory_notification()
            if racer.was_hard_memory_limit_reached():
                raise LimitHit(self.memory_error())
            self.heap_bytes = int(racer.heap_stats()["used_heap_size"])
        self._resident_mark = resident_bytes()

    def memory_error(self) -> str:
        return f"the transformation used more than {self.memory_bytes // 2**20} MiB"

    def close(self) -> None:
        """Free the context; V8 terminates whatever it still runs."""
        made, self._made = self._made, None
        if made is not None:
            made.__exit__(None, None, None)
