module github.com/keyhaven/keyhaven

go 1.26.8

require (
	github.com/emmansun/gmsm v0.30.0
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.0.563
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms v1.0.563
	go.etcd.io/bbolt v1.4.3
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/miekg/pkcs11 v1.1.1 // indirect
	golang.org/x/crypto v0.36.0 // indirect
	golang.org/x/sys v0.31.0 // indirect
)
