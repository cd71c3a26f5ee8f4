// N-API binding of native/core for the monitor: the collective cost model and the wire encoder
// (the encoder is exposed so that tests can hold protobufjs and the shim's encoder to the same bytes).
#include <napi.h>

#include "../core/cost_model.h"
#include "../core/wire.h"

namespace {

using sitempi::core::Coll;
using sitempi::core::CollRecord;
using sitempi::core::Flow;
namespace wire = sitempi::wire;

uint64_t to_u64(const Napi::Value& v) {
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Uint64Value(&lossless); }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

// expandCollective(coll, alg, me, root, size, bytes) -> { src, dst, bytes, msgs }
Napi::Value ExpandCollective(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "expandCollective(coll, alg, me, root, size, bytes)");
  CollRecord r{static_cast<Coll>(info[0].As<Napi::Number>().Uint32Value()), info[1].As<Napi::Number>().Uint32Value(),
               info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
               info[4].As<Napi::Number>().Int32Value(), to_u64(info[5])};
  std::vector<Flow> flows;
  sitempi::core::expand(r, flows);
  const size_t n = flows.size();
  auto src = Napi::Int32Array::New(env, n), dst = Napi::Int32Array::New(env, n);
  auto bytes = Napi::Float64Array::New(env, n);
  auto msgs = Napi::Uint32Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    src[i] = flows[i].src; dst[i] = flows[i].dst;
    bytes[i] = static_cast<double>(flows[i].bytes); msgs[i] = flows[i].msgs;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("src", src); o.Set("dst", dst); o.Set("bytes", bytes); o.Set("msgs", msgs);
  return o;
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& v) {
  return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
}

template <typename T>
T Elem(const Napi::Object& o, const char* key, size_t i) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return T{};
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  switch (a.TypedArrayType()) {
    case napi_float64_array: return static_cast<T>(v.As<Napi::Float64Array>()[i]);
    case napi_int32_array: return static_cast<T>(v.As<Napi::Int32Array>()[i]);
    case napi_uint32_array: return static_cast<T>(v.As<Napi::Uint32Array>()[i]);
    case napi_biguint64_array: return static_cast<T>(v.As<Napi::BigUint64Array>()[i]);
    default: throw Napi::TypeError::New(o.Env(), std::string("unsupported array type for ") + key);
  }
}

// encodeBatch({seq, dropped, epoch, fn, peer, bytes, comm, alg, start, duration}) -> Buffer (one frame)
Napi::Value EncodeBatch(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  const size_t n = o.Get("fn").As<Napi::TypedArray>().ElementLength();
  std::vector<wire::Record> recs(n);
  for (size_t i = 0; i < n; ++i) {
    recs[i] = {Elem<uint32_t>(o, "fn", i), Elem<int32_t>(o, "peer", i), Elem<uint64_t>(o, "bytes", i),
               Elem<uint32_t>(o, "comm", i), Elem<uint32_t>(o, "alg", i), Elem<uint64_t>(o, "start", i),
               Elem<uint64_t>(o, "duration", i), Elem<uint32_t>(o, "crossMsgs", i), Elem<uint64_t>(o, "crossBytes", i)};
  }
  std::vector<uint8_t> out;
  wire::append_batch(out, to_u64(o.Get("seq")), to_u64(o.Get("dropped")), to_u64(o.Get("epoch")), recs.data(), n);
  return ToBuffer(info.Env(), out);
}

std::string Str(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
uint64_t U64(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  return v.IsUndefined() ? 0 : to_u64(v);
}
std::vector<uint32_t> U32s(const Napi::Object& o, const char* k) {
  std::vector<uint32_t> r;
  Napi::Value v = o.Get(k);
  if (!v.IsArray()) return r;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(a.Get(i).As<Napi::Number>().Uint32Value());
  return r;
}

Napi::Value EncodeHello(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  wire::Hello h;
  h.job = Str(o, "job"); h.host = Str(o, "host"); h.token = Str(o, "token"); h.program = Str(o, "program");
  h.rank = uint32_t(U64(o, "rank")); h.size = uint32_t(U64(o, "size")); h.pid = uint32_t(U64(o, "pid"));
  h.start_ns = U64(o, "startNs");
  std::vector<uint8_t> out;
  wire::append_hello(out, h);
  return ToBuffer(info.Env(), out);
}

Napi::Value EncodeCommDef(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  wire::CommDef c;
  c.local_id = uint32_t(U64(o, "localId")); c.global_id = U64(o, "globalId");
  c.members = U32s(o, "members"); c.remote_members = U32s(o, "remoteMembers");
  std::vector<uint8_t> out;
  wire::append_comm_def(out, c);
  return ToBuffer(info.Env(), out);
}

Napi::Value EncodeBye(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  wire::Bye b{U64(o, "endNs"), U64(o, "records"), U64(o, "dropped"), U64(o, "mpiNs")};
  std::vector<uint8_t> out;
  wire::append_bye(out, b);
  return ToBuffer(info.Env(), out);
}

Napi::Value EncodePlacement(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  wire::Placement p;
  p.epoch = U64(o, "epoch");
  Napi::Array sites = o.Get("sites").As<Napi::Array>();
  for (uint32_t i = 0; i < sites.Length(); ++i) p.sites.push_back(sites.Get(i).As<Napi::String>().Utf8Value());
  p.site_of = U32s(o, "siteOf");
  std::vector<uint8_t> out;
  wire::append_placement(out, p);
  return ToBuffer(info.Env(), out);
}

// decodeEnvelope(body) -> { kind, ... } with the shim's own decoder (what the shim understands).
Napi::Value DecodeEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = info[0].As<Napi::Uint8Array>();
  wire::IncomingMessage m = wire::decode_envelope(buf.Data(), buf.ByteLength());
  Napi::Object o = Napi::Object::New(env);
  static const char* kinds[] = {"placement", "ack", "error", "other", "malformed"};
  o.Set("kind", kinds[static_cast<int>(m.kind)]);
  if (m.kind == wire::Incoming::Placement) {
    o.Set("epoch", Napi::Number::New(env, double(m.placement.epoch)));
    Napi::Array sites = Napi::Array::New(env, m.placement.sites.size());
    for (size_t i = 0; i < m.placement.sites.size(); ++i) sites.Set(uint32_t(i), m.placement.sites[i]);
    o.Set("sites", sites);
    Napi::Array so = Napi::Array::New(env, m.placement.site_of.size());
    for (size_t i = 0; i < m.placement.site_of.size(); ++i) so.Set(uint32_t(i), m.placement.site_of[i]);
    o.Set("siteOf", so);
  } else if (m.kind == wire::Incoming::Ack) {
    o.Set("seq", Napi::Number::New(env, double(m.ack_seq)));
  } else if (m.kind == wire::Incoming::Error) {
    o.Set("message", m.error);
  }
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("expandCollective", Napi::Function::New(env, ExpandCollective));
  exports.Set("encodeBatch", Napi::Function::New(env, EncodeBatch));
  exports.Set("encodeHello", Napi::Function::New(env, EncodeHello));
  exports.Set("encodeCommDef", Napi::Function::New(env, EncodeCommDef));
  exports.Set("encodeBye", Napi::Function::New(env, EncodeBye));
  exports.Set("encodePlacement", Napi::Function::New(env, EncodePlacement));
  exports.Set("decodeEnvelope", Napi::Function::New(env, DecodeEnvelope));
  exports.Set("protocolVersion", Napi::Number::New(env, wire::kProtocolVersion));
  exports.Set("maxFrameBytes", Napi::Number::New(env, wire::kMaxFrameBytes));
  return exports;
}

}  // namespace

NODE_API_MODULE(sitempi, Init)
