{
  "variables": {
    "blst": "<!(node -p \"require('node:path').relative('.', require('node:path').join(require('node:path').dirname(require.resolve('c-kzg/package.json')), 'deps', 'blst'))\")"
  },
  "targets": [
    {
      "target_name": "sherd_native",
      "sources": ["src/sherd_native.c", "<(blst)/src/server.c", "<(blst)/build/assembly.S"],
      "include_dirs": ["<(blst)/bindings"],
      "defines": ["__BLST_PORTABLE__"],
      "cflags": ["-O3", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wno-unused-function"],
      "cflags!": ["-O2"]
    }
  ]
}
