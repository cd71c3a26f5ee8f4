// N-API binding of native/core for the monitor: the collective cost model and the wire encoder
// (the encoder is exposed so that tests can hold protobufjs and the shim's encoder to the same bytes).
#include <napi.h>

#include <cmath>

#include "../core/cost_model.h"
#include "../core/sites.h"
#include "../core/wire.h"

namespace sitempi::addon {
void RegisterPartition(Napi::Env env, Napi::Object exports);  // native/addon/partition.cpp
}

namespace {

using sitempi::core::Coll;
using sitempi::core::CollRecord;
using sitempi::core::Flow;
namespace wire = sitempi::wire;

uint64_t to_u64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

std::vector<int32_t> Int32s(const Napi::Value& v) {
  std::vector<int32_t> r;
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  } else if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    for (size_t i = 0; i < t.ElementLength(); ++i) r.push_back(t.Get(uint32_t(i)).As<Napi::Number>().Int32Value());
  }
  return r;
}
std::vector<uint64_t> U64s(const Napi::Value& v) {
  std::vector<uint64_t> r;
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(to_u64(a.Get(i)));
  } else if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    for (size_t i = 0; i < t.ElementLength(); ++i) r.push_back(to_u64(t.Get(uint32_t(i))));
  }
  return r;
}

// expandCollective(coll, alg, me, root, size, bytes, siteOf?, { elems?, peerBytes? }?) -> { src, dst, bytes, msgs }
// siteOf (site of each communicator rank) is needed for the site-aware algorithms (alg != 0).
Napi::Value ExpandCollective(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "expandCollective(coll, alg, me, root, size, bytes, siteOf?)");
  CollRecord r{static_cast<Coll>(info[0].As<Napi::Number>().Uint32Value()),
               info[1].As<Napi::Number>().Uint32Value(),
               info[2].As<Napi::Number>().Int32Value(),
               info[3].As<Napi::Number>().Int32Value(),
               info[4].As<Napi::Number>().Int32Value(),
               to_u64(info[5])};
  std::vector<int32_t> site_of;
  std::vector<uint64_t> peer_bytes;
  if (info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull()) {
    site_of = Int32s(info[6]);
    if (site_of.size() != size_t(r.size < 0 ? 0 : r.size))
      throw Napi::RangeError::New(env, "siteOf must have size entries");
    r.site_of = site_of.data();
  }
  if (info.Length() > 7 && info[7].IsObject()) {
    Napi::Object o = info[7].As<Napi::Object>();
    if (o.Has("elems")) r.elems = to_u64(o.Get("elems"));
    if (o.Has("nonBlocking")) r.blocking = !o.Get("nonBlocking").ToBoolean().Value();
    if (o.Has("peerBytes")) {
      peer_bytes = U64s(o.Get("peerBytes"));
      if (peer_bytes.size() != size_t(r.size < 0 ? 0 : r.size))
        throw Napi::RangeError::New(env, "peerBytes must have size entries");
      r.peer_bytes = peer_bytes.data();
    }
  }
  std::vector<Flow> flows;
  sitempi::core::expand(r, flows);
  const size_t n = flows.size();
  auto src = Napi::Int32Array::New(env, n), dst = Napi::Int32Array::New(env, n);
  auto bytes = Napi::Float64Array::New(env, n);
  auto msgs = Napi::Uint32Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    src[i] = flows[i].src;
    dst[i] = flows[i].dst;
    bytes[i] = static_cast<double>(flows[i].bytes);
    msgs[i] = flows[i].msgs;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("src", src);
  o.Set("dst", dst);
  o.Set("bytes", bytes);
  o.Set("msgs", msgs);
  return o;
}

uint64_t U64(const Napi::Object& o, const char* k);

bool Bool(const Napi::Object& o, const char* k, bool fallback) {
  Napi::Value v = o.Get(k);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

// predictCollective({ coll, siteOf, root?, m?, blocks?, matrix?, elems?, commutative?, alg?,
//                     rsagMin? | alphaUs?, bandwidthMbps?, alltoall?, smallBytes?, spread?,
//                     nodeSites?, nonBlocking? })
//   -> { alg, crossMsgs: number[], crossBytes: number[], alternative? }   (per communicator rank)
// The algorithm the shim chooses for the call (unless alg is given) and what each rank sends to
// other sites in it: the cost model's prediction of the shim's Record.cross_msgs / cross_bytes.
Napi::Value PredictCollective(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  const Coll coll = static_cast<Coll>(o.Get("coll").As<Napi::Number>().Uint32Value());
  const std::vector<int32_t> site_of = Int32s(o.Get("siteOf"));
  const int P = int(site_of.size());
  const sitempi::core::Grouping g = sitempi::core::group_sites(site_of.data(), P);
  const std::vector<uint64_t> blocks = U64s(o.Get("blocks")), matrix = U64s(o.Get("matrix"));
  if (!blocks.empty() && blocks.size() != size_t(P))
    throw Napi::RangeError::New(env, "blocks must have one entry per rank");
  if (!matrix.empty() && matrix.size() != size_t(P) * size_t(P)) throw Napi::RangeError::New(env, "matrix must be P*P");
  sitempi::core::CollChoice ch;
  ch.m = U64(o, "m");
  ch.elems = o.Has("elems") ? U64(o, "elems") : ch.m;
  ch.commutative = Bool(o, "commutative", true);
  ch.variable = !blocks.empty() || !matrix.empty();
  // A key given as undefined ({ alphaUs: opts.alphaUs }) means the shim's default.
  auto given = [&](const char* k) { return o.Has(k) && !o.Get(k).IsUndefined(); };
  ch.alpha_s = (given("alphaUs") ? double(U64(o, "alphaUs")) : 5000.0) * 1e-6;
  ch.bandwidth_Bps = (given("bandwidthMbps") ? double(U64(o, "bandwidthMbps")) : 1000.0) * 1e6 / 8;
  ch.rsag_min = given("rsagMin") ? U64(o, "rsagMin") : sitempi::core::rsag_threshold(g.S, ch.alpha_s, ch.bandwidth_Bps);
  ch.alltoall = given("alltoall") ? int(U64(o, "alltoall")) : sitempi::core::kAlltoallAuto;
  ch.xor_cross = sitempi::core::xor_cross_distances(g);
  ch.small_bytes = given("smallBytes") ? U64(o, "smallBytes") : sitempi::core::kSmallCallBytes;
  ch.spread = Bool(o, "spread", true);
  ch.node_sites = Bool(o, "nodeSites", false);
  ch.blocking = !Bool(o, "nonBlocking", false);
  const uint32_t alg = o.Has("alg") ? uint32_t(U64(o, "alg")) : sitempi::core::choose_alg(coll, g, ch);
  sitempi::core::CallShape sh;
  sh.coll = coll;
  sh.alg = alg;
  sh.root = o.Has("root") ? o.Get("root").As<Napi::Number>().Int32Value() : -1;
  if (sitempi::core::has_root(coll) && (sh.root < 0 || sh.root >= P))
    throw Napi::RangeError::New(env, "root must be a rank of the communicator for this collective");
  sh.g = &g;
  sh.m = ch.m;
  sh.blocks = blocks.empty() ? nullptr : blocks.data();
  sh.matrix = matrix.empty() ? nullptr : matrix.data();
  sh.elems = ch.elems;
  sitempi::core::CrossCounts cc;
  sitempi::core::predict_cross(sh, cc);
  Napi::Array msgs = Napi::Array::New(env, size_t(P)), bytes = Napi::Array::New(env, size_t(P));
  for (int i = 0; i < P; ++i) {
    msgs.Set(uint32_t(i), Napi::Number::New(env, double(cc.msgs[size_t(i)])));
    bytes.Set(uint32_t(i), Napi::Number::New(env, double(cc.bytes[size_t(i)])));
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("alg", Napi::Number::New(env, alg));
  r.Set("crossMsgs", msgs);
  r.Set("crossBytes", bytes);
  r.Set("sites", Napi::Number::New(env, g.S));
  // An Alltoall the shim times (coll/alltoall_calibration.h): it may run this algorithm instead
  if (!o.Has("alg") && coll == Coll::Alltoall) {
    const sitempi::core::AlltoallCandidates k = sitempi::core::alltoall_candidates(g, ch);
    if (k.uncertain) r.Set("alternative", Napi::Number::New(env, k.second));
  }
  return r;
}

// parseSites(text, worldSize, hosts?) -> { names, siteOf }; throws Error with the shim's message.
Napi::Value ParseSites(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string text = info[0].As<Napi::String>().Utf8Value();
  const int world = info[1].As<Napi::Number>().Int32Value();
  std::vector<std::string> hosts;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) hosts.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  sitempi::core::SiteMap map;
  std::string err;
  if (!sitempi::core::parse_site_map(text, world, hosts, map, err)) throw Napi::Error::New(env, err);
  Napi::Array names = Napi::Array::New(env, map.names.size()), so = Napi::Array::New(env, map.site_of.size());
  for (size_t i = 0; i < map.names.size(); ++i) names.Set(uint32_t(i), map.names[i]);
  for (size_t i = 0; i < map.site_of.size(); ++i) so.Set(uint32_t(i), map.site_of[i]);
  Napi::Object r = Napi::Object::New(env);
  r.Set("names", names);
  r.Set("siteOf", so);
  return r;
}

// parseCollSwitch(text) -> names of the enabled collectives; throws on unknown names.
Napi::Value ParseCollSwitch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t mask = 0;
  std::string err;
  if (!sitempi::core::parse_coll_switch(info[0].As<Napi::String>().Utf8Value(), mask, err))
    throw Napi::Error::New(env, err);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t c = 0; c < 32; ++c)
    if (mask & (1u << c)) out.Set(n++, sitempi::core::coll_name(static_cast<Coll>(c)));
  return out;
}

// rsagThreshold(S, alphaUs, bandwidthMbps) -> bytes (Infinity when never)
Napi::Value RsagThreshold(const Napi::CallbackInfo& info) {
  const uint64_t t = sitempi::core::rsag_threshold(info[0].As<Napi::Number>().Int32Value(),
                                                   info[1].As<Napi::Number>().DoubleValue() * 1e-6,
                                                   info[2].As<Napi::Number>().DoubleValue() * 1e6 / 8);
  return Napi::Number::New(info.Env(), t == ~0ull ? INFINITY : double(t));
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& v) {
  return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
}

// One column of encodeBatch's input, looked up once per call (not once per record): a typed
// array read in place, or zeros when absent.
class Column {
 public:
  Column(const Napi::Object& o, const char* key) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return;
    Napi::TypedArray a = v.As<Napi::TypedArray>();
    type_ = a.TypedArrayType();
    if (type_ != napi_float64_array && type_ != napi_int32_array && type_ != napi_uint32_array &&
        type_ != napi_biguint64_array)
      throw Napi::TypeError::New(o.Env(), std::string("unsupported array type for ") + key);
    data_ = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    n_ = a.ElementLength();
  }
  template <typename T>
  T at(size_t i) const {
    if (i >= n_) return T{};
    switch (type_) {
      case napi_float64_array:
        return static_cast<T>(reinterpret_cast<const double*>(data_)[i]);
      case napi_int32_array:
        return static_cast<T>(reinterpret_cast<const int32_t*>(data_)[i]);
      case napi_uint32_array:
        return static_cast<T>(reinterpret_cast<const uint32_t*>(data_)[i]);
      default:
        return static_cast<T>(reinterpret_cast<const uint64_t*>(data_)[i]);
    }
  }

 private:
  napi_typedarray_type type_ = napi_uint8_array;
  const uint8_t* data_ = nullptr;
  size_t n_ = 0;
};

// encodeBatch({seq, dropped, epoch, fn, peer, bytes, comm, alg, start, duration, crossMsgs?, crossBytes?, tag?})
//   -> Buffer (one frame)
Napi::Value EncodeBatch(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  const size_t n = o.Get("fn").As<Napi::TypedArray>().ElementLength();
  std::vector<wire::Record> recs(n);
  const Column fn(o, "fn"), peer(o, "peer"), bytes(o, "bytes"), comm(o, "comm"), alg(o, "alg"), start(o, "start"),
      duration(o, "duration"), cross_msgs(o, "crossMsgs"), cross_bytes(o, "crossBytes"), tag(o, "tag");
  for (size_t i = 0; i < n; ++i) {
    recs[i] = {fn.at<uint32_t>(i),          peer.at<int32_t>(i),   bytes.at<uint64_t>(i),    comm.at<uint32_t>(i),
               alg.at<uint32_t>(i),         start.at<uint64_t>(i), duration.at<uint64_t>(i), cross_msgs.at<uint32_t>(i),
               cross_bytes.at<uint64_t>(i), tag.at<uint32_t>(i)};
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
  h.job = Str(o, "job");
  h.host = Str(o, "host");
  h.token = Str(o, "token");
  h.program = Str(o, "program");
  h.job_key = Str(o, "jobKey");
  h.rank = uint32_t(U64(o, "rank"));
  h.size = uint32_t(U64(o, "size"));
  h.pid = uint32_t(U64(o, "pid"));
  h.start_ns = U64(o, "startNs");
  std::vector<uint8_t> out;
  wire::append_hello(out, h);
  return ToBuffer(info.Env(), out);
}

Napi::Value EncodeCommDef(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  wire::CommDef c;
  c.local_id = uint32_t(U64(o, "localId"));
  c.global_id = U64(o, "globalId");
  c.members = U32s(o, "members");
  c.remote_members = U32s(o, "remoteMembers");
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
  exports.Set("predictCollective", Napi::Function::New(env, PredictCollective));
  exports.Set("parseSites", Napi::Function::New(env, ParseSites));
  exports.Set("parseCollSwitch", Napi::Function::New(env, ParseCollSwitch));
  exports.Set("rsagThreshold", Napi::Function::New(env, RsagThreshold));
  exports.Set("encodeBatch", Napi::Function::New(env, EncodeBatch));
  exports.Set("encodeHello", Napi::Function::New(env, EncodeHello));
  exports.Set("encodeCommDef", Napi::Function::New(env, EncodeCommDef));
  exports.Set("encodeBye", Napi::Function::New(env, EncodeBye));
  exports.Set("encodePlacement", Napi::Function::New(env, EncodePlacement));
  exports.Set("decodeEnvelope", Napi::Function::New(env, DecodeEnvelope));
  exports.Set("protocolVersion", Napi::Number::New(env, wire::kProtocolVersion));
  exports.Set("maxFrameBytes", Napi::Number::New(env, wire::kMaxFrameBytes));
  sitempi::addon::RegisterPartition(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sitempi, Init)
