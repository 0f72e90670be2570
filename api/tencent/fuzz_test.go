package tencent_test

import (
	"testing"
	"time"
)

// FuzzRequest sends arbitrary, correctly signed bodies to every action of a
// real server: each must come back as a well-formed Tencent response (HTTP
// 200, JSON envelope, RequestId, no InternalError), never a crash.
func FuzzRequest(f *testing.F) {
	e := start(f, "")
	keyID := createKey(f, e.client, "fuzz")
	actions := []string{
		"CreateKey", "DescribeKey", "DescribeKeys", "ListKeys", "ListKeyDetail", "UpdateAlias",
		"UpdateKeyDescription", "EnableKey", "DisableKey", "EnableKeys", "DisableKeys", "Encrypt",
		"Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateRandom", "GetServiceStatus", "GetRegions", "ListAlgorithms",
	}
	seeds := []string{
		`{}`, `{"KeyId":"` + keyID + `"}`, `{"KeyIds":["` + keyID + `"]}`, `{"Limit":5,"Offset":1}`,
		`{"KeyId":"` + keyID + `","Plaintext":"aGVsbG8=","EncryptionContext":"{\"a\":\"b\"}"}`,
		`{"CiphertextBlob":"AQ=="}`, `{"KeyId":"` + keyID + `","NumberOfBytes":32}`, `{"Alias":"x","Tags":[{"TagKey":"k"}]}`,
		`{"KeyState":9}`, `[1,2]`, `null`, `{"KeyId":null}`, `{"TagFilters":[{"TagKey":"k","TagValue":[null]}]}`,
	}
	for i := range actions {
		f.Add(uint8(i), []byte(seeds[i%len(seeds)]))
		f.Add(uint8(i), []byte(seeds[(i+5)%len(seeds)]))
	}
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		if len(body) > 4096 {
			return
		}
		send(t, e.addr, actions[int(action)%len(actions)], "2019-01-18", body, time.Now(), testSecretKey)
	})
}
