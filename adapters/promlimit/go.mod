module github.com/ratewarden/ratewarden/adapters/promlimit

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/prometheus/client_golang v1.25.0
	github.com/prometheus/client_model v0.6.3
	github.com/ratewarden/ratewarden/backends/memorystore v0.2.0
	github.com/ratewarden/ratewarden/core v0.2.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)

require golang.org/x/sync v0.24.0 // indirect

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/MicahParks/keyfunc/v3 v3.9.1 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/ratewarden/ratewarden/adapters/httplimit v0.2.0
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/ratewarden/ratewarden/backends/memorystore => ../../backends/memorystore
	github.com/ratewarden/ratewarden/core => ../../core
)

replace github.com/ratewarden/ratewarden/adapters/httplimit => ../httplimit
