module github.com/ratewarden/ratewarden/backends/memorystore

go 1.25.0

require github.com/ratewarden/ratewarden/core v0.0.0-00010101000000-000000000000

replace github.com/ratewarden/ratewarden/core => ../../core
