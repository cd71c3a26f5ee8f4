{
  "targets": [
    {
      "target_name": "sitempi",
      "sources": ["native/addon/addon.cpp", "native/core/wire.cpp", "native/core/cost_model.cpp", "native/core/sites.cpp",
                  "native/core/tuned.cpp", "native/core/tuned_coll.cpp", "native/core/butterfly.cpp", "native/core/tuned_vector.cpp", "native/core/nbc.cpp",
                  "native/core/scratch_pool.cpp",
                  "native/addon/partition.cpp", "native/core/partition.cpp", "native/core/partition_bisect.cpp",
                  "native/core/partition_refine.cpp", "native/core/partition_conn.cpp"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")", "native",
                       "<!(node native/shim/gen/generate.mjs --cpp build/generated && echo build/generated)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
