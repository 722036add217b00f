module github.com/ratewarden/ratewarden/backends/redisstore

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/ratewarden/ratewarden/backends/memorystore v0.2.0
	github.com/ratewarden/ratewarden/core v0.2.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/MicahParks/keyfunc/v3 v3.9.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/ratewarden/ratewarden/core => ../../core

replace github.com/ratewarden/ratewarden/backends/memorystore => ../memorystore
