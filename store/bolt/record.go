package bolt

import (
	"encoding/binary"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

// The records below are the on-disk JSON encoding. Their tags, not the kms
// field names, fix the format: renaming a kms field must not change a file.
// Times are stored in UTC with nanoseconds (RFC 3339).

type keyRecord struct {
	ID              string      `json:"id"`
	Account         string      `json:"account"`
	Alias           string      `json:"alias,omitempty"`
	Description     string      `json:"description,omitempty"`
	Usage           string      `json:"usage"`
	Spec            string      `json:"spec"`
	State           string      `json:"state"`
	Origin          string      `json:"origin"`
	ProtectionLevel string      `json:"protection_level"`
	Creator         string      `json:"creator"`
	Service         string      `json:"service,omitempty"`
	CreateTime      time.Time   `json:"create_time"`
	Tags            []tagRecord `json:"tags,omitempty"`
	CurrentVersion  uint32      `json:"current_version"`
	RotationEnabled bool        `json:"rotation_enabled,omitempty"`
	RotateDays      int         `json:"rotate_days,omitempty"`
	NextRotateTime  time.Time   `json:"next_rotate_time"`
	LastRotateTime  time.Time   `json:"last_rotate_time"`
	DeletionDate    time.Time   `json:"deletion_date"`
	ValidTo         time.Time   `json:"valid_to"`
	Fingerprint     []byte      `json:"fingerprint,omitempty"`
}

type tagRecord struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func newKeyRecord(k *kms.Key) keyRecord {
	r := keyRecord{
		ID:              k.ID,
		Account:         k.Account,
		Alias:           k.Alias,
		Description:     k.Description,
		Usage:           string(k.Usage),
		Spec:            string(k.Spec),
		State:           string(k.State),
		Origin:          string(k.Origin),
		ProtectionLevel: string(k.ProtectionLevel),
		Creator:         k.Creator,
		Service:         k.Service,
		CreateTime:      k.CreateTime.UTC(),
		CurrentVersion:  k.CurrentVersion,
		RotationEnabled: k.RotationEnabled,
		RotateDays:      k.RotateDays,
		NextRotateTime:  k.NextRotateTime.UTC(),
		LastRotateTime:  k.LastRotateTime.UTC(),
		DeletionDate:    k.DeletionDate.UTC(),
		ValidTo:         k.ValidTo.UTC(),
		Fingerprint:     k.Fingerprint,
	}
	if len(k.Tags) > 0 {
		r.Tags = make([]tagRecord, len(k.Tags))
		for i, t := range k.Tags {
			r.Tags[i] = tagRecord{Key: t.Key, Value: t.Value}
		}
	}
	return r
}

func (r *keyRecord) key() *kms.Key {
	k := &kms.Key{
		ID:              r.ID,
		Account:         r.Account,
		Alias:           r.Alias,
		Description:     r.Description,
		Usage:           kms.KeyUsage(r.Usage),
		Spec:            kms.KeySpec(r.Spec),
		State:           kms.KeyState(r.State),
		Origin:          kms.Origin(r.Origin),
		ProtectionLevel: kms.ProtectionLevel(r.ProtectionLevel),
		Creator:         r.Creator,
		Service:         r.Service,
		CreateTime:      r.CreateTime,
		CurrentVersion:  r.CurrentVersion,
		RotationEnabled: r.RotationEnabled,
		RotateDays:      r.RotateDays,
		NextRotateTime:  r.NextRotateTime,
		LastRotateTime:  r.LastRotateTime,
		DeletionDate:    r.DeletionDate,
		ValidTo:         r.ValidTo,
		Fingerprint:     r.Fingerprint,
	}
	if len(r.Tags) > 0 {
		k.Tags = make([]kms.Tag, len(r.Tags))
		for i, t := range r.Tags {
			k.Tags[i] = kms.Tag{Key: t.Key, Value: t.Value}
		}
	}
	return k
}

// versionRecord is a key version; its key id and number are the record's
// key in bucketVersions.
type versionRecord struct {
	Material   []byte    `json:"material"`
	CreateTime time.Time `json:"create_time"`
}

type accessKeyRecord struct {
	SecretID     string    `json:"secret_id"`
	Account      string    `json:"account"`
	User         string    `json:"user"`
	SealedSecret []byte    `json:"sealed_secret"`
	Status       string    `json:"status"`
	CreateTime   time.Time `json:"create_time"`
}

func newAccessKeyRecord(ak *kms.AccessKey) accessKeyRecord {
	return accessKeyRecord{
		SecretID:     ak.SecretID,
		Account:      ak.Account,
		User:         ak.User,
		SealedSecret: ak.SealedSecret,
		Status:       string(ak.Status),
		CreateTime:   ak.CreateTime.UTC(),
	}
}

func (r *accessKeyRecord) accessKey() *kms.AccessKey {
	return &kms.AccessKey{
		SecretID:     r.SecretID,
		Account:      r.Account,
		User:         r.User,
		SealedSecret: r.SealedSecret,
		Status:       kms.AccessKeyStatus(r.Status),
		CreateTime:   r.CreateTime,
	}
}

// aliasKey is the bucketAliases key of an alias: account \x00 alias.
func aliasKey(account, alias string) []byte {
	b := make([]byte, 0, len(account)+1+len(alias))
	b = append(b, account...)
	b = append(b, 0)
	return append(b, alias...)
}

// accountPrefix is the bucketAccountKeys prefix of an account's keys.
func accountPrefix(account string) []byte {
	return append([]byte(account), 0)
}

// accountKey is the bucketAccountKeys key of a key: account \x00, its create
// time in 12 bytes that sort in time order, then its id, so a cursor walks an
// account's keys oldest first, ties by id.
func accountKey(account string, created time.Time, id string) []byte {
	b := make([]byte, 0, len(account)+1+12+len(id))
	b = append(b, account...)
	b = append(b, 0)
	// Flipping the sign bit makes seconds before 1970 sort before those after.
	b = binary.BigEndian.AppendUint64(b, uint64(created.Unix())^(1<<63))
	b = binary.BigEndian.AppendUint32(b, uint32(created.Nanosecond()))
	return append(b, id...)
}

// versionKey is the bucketVersions key of a version: the key id followed by
// the version as a big-endian uint32, so versions sort numerically.
func versionKey(keyID string, version uint32) []byte {
	b := make([]byte, 0, len(keyID)+4)
	b = append(b, keyID...)
	return binary.BigEndian.AppendUint32(b, version)
}
