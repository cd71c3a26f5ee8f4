// N-API binding of the partitioner (native/core/partition.h), loaded by src/partition/partition.ts
// through src/native/addon.ts. The graph's typed arrays are read in place (no copies); the caller
// (TypeScript) has validated the graph, the capacities and the start placement.
#include <napi.h>

#include <exception>

#include "../core/partition.h"

namespace sitempi::addon {

namespace {

// The elements of a typed array of the expected type and at least `at_least` entries, in place.
template <typename T>
const T* DataOf(const Napi::Value& v, napi_typedarray_type type, size_t at_least, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " has the wrong type");
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ElementLength() < at_least) throw Napi::RangeError::New(v.Env(), std::string(what) + " is too short");
  return a.Data();
}

int Int(const Napi::Object& o, const char* k, int fallback) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

// partition(n, xadj, adjncy, adjwgt, vwgt | null, caps: Float64Array, opts, start | null)
//   -> { part: Int32Array, cut }
Napi::Value Partition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "partition(n, xadj, adjncy, adjwgt, vwgt, caps, opts, start)");
  partition::GraphView g;
  g.n = info[0].As<Napi::Number>().Int32Value();
  if (g.n < 0) throw Napi::RangeError::New(env, "partition: n < 0");
  g.xadj = DataOf<int32_t>(info[1], napi_int32_array, size_t(g.n) + 1, "xadj");
  const size_t m = size_t(g.xadj[g.n]);
  g.adjncy = DataOf<int32_t>(info[2], napi_int32_array, m, "adjncy");
  g.adjwgt = DataOf<double>(info[3], napi_float64_array, m, "adjwgt");
  g.vwgt = info[4].IsNull() || info[4].IsUndefined() ? nullptr
                                                     : DataOf<int32_t>(info[4], napi_int32_array, size_t(g.n), "vwgt");
  const size_t k = info[5].IsTypedArray() ? info[5].As<Napi::TypedArray>().ElementLength() : 0;
  const double* caps = DataOf<double>(info[5], napi_float64_array, k, "caps");
  std::vector<double> cap(caps, caps + k);
  Napi::Object o = info[6].As<Napi::Object>();
  partition::Options opt;
  opt.seed = o.Get("seed").IsNumber() ? o.Get("seed").As<Napi::Number>().Uint32Value() : 1;
  opt.cuts = Int(o, "cuts", 0);
  opt.tries = Int(o, "tries", opt.tries);
  opt.passes = Int(o, "passes", opt.passes);
  opt.fm_rounds = Int(o, "fmRounds", opt.fm_rounds);
  opt.fm_work = o.Get("fmWork").IsNumber() ? o.Get("fmWork").As<Napi::Number>().DoubleValue() : opt.fm_work;
  opt.coarsen_to = Int(o, "coarsenTo", 0);
  const int32_t* start = info[7].IsNull() || info[7].IsUndefined()
                             ? nullptr
                             : DataOf<int32_t>(info[7], napi_int32_array, size_t(g.n), "start");
  Napi::Int32Array part = Napi::Int32Array::New(env, size_t(g.n));
  double cut;
  try {
    cut = partition::partition(g, cap, opt, start, part.Data());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("part", part);
  r.Set("cut", Napi::Number::New(env, cut));
  return r;
}

}  // namespace

void RegisterPartition(Napi::Env env, Napi::Object exports) {
  exports.Set("partition", Napi::Function::New(env, Partition));
}

}  // namespace sitempi::addon
