package kms

import "time"

// User is a sub-user of an account: a principal with its own access keys
// and the policies attached to it. The account's root user is not a User
// record; its id is the account id.
type User struct {
	Account    string
	ID         string // the user's Uin
	Name       string
	Remark     string
	CreateTime time.Time
	Policies   []uint64 // attached policy ids
}

// Policy is a CAM policy document of an account.
type Policy struct {
	Account     string
	ID          uint64
	Name        string
	Description string
	Document    string
	CreateTime  time.Time
}
