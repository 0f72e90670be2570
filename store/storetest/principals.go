package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/keyhaven/keyhaven/kms"
)

func principalTests() []test {
	return []test{
		{"Users", testUsers},
		{"UserNames", testUserNames},
		{"Policies", testPolicies},
		{"PolicyNames", testPolicyNames},
		{"AccessKeysOfUser", testAccessKeysOfUser},
	}
}

func newUser(account, id, name string, m int) *kms.User {
	return &kms.User{Account: account, ID: id, Name: name, Remark: "r " + name, CreateTime: at(m), Policies: []uint64{7, 3}}
}

func sameUser(a, b *kms.User) bool {
	if !a.CreateTime.Equal(b.CreateTime) {
		return false
	}
	x, y := *a, *b
	x.CreateTime = y.CreateTime
	return reflect.DeepEqual(x, y)
}

func testUsers(t *testing.T, s kms.Store) {
	u1, u2, other := newUser(account1, "500000000002", "bob", 2), newUser(account1, "500000000001", "alice", 1), newUser(account3, "500000000003", "carol", 0)
	update(t, s, func(tx kms.Tx) error {
		for _, u := range []*kms.User{u1, u2, other} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx kms.Tx) error {
		got, err := tx.User(account1, u1.ID)
		if err != nil || !sameUser(got, u1) {
			t.Errorf("User = %+v, %v; want %+v", got, err, u1)
		}
		got.Policies[0] = 99 // a copy
		users, err := tx.Users(account1)
		if err != nil || len(users) != 2 || users[0].ID != u2.ID || users[1].ID != u1.ID || users[1].Policies[0] != 7 {
			t.Errorf("Users(account1) = %+v, %v; want alice then bob", users, err)
		}
		if _, err := tx.User(account2, u1.ID); !errors.Is(err, kms.ErrUserNotFound) {
			t.Errorf("User of another account = %v, want ErrUserNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx kms.Tx) error { return tx.DeleteUser(account1, u1.ID) })
	err := s.Update(context.Background(), func(tx kms.Tx) error { return tx.DeleteUser(account1, u1.ID) })
	if !errors.Is(err, kms.ErrUserNotFound) {
		t.Errorf("DeleteUser twice = %v, want ErrUserNotFound", err)
	}
	view(t, s, func(tx kms.Tx) error {
		if users, _ := tx.Users(account1); len(users) != 1 {
			t.Errorf("Users after delete = %d, want 1", len(users))
		}
		if users, _ := tx.Users(account3); len(users) != 1 {
			t.Errorf("Users(account3) = %d, want 1 (prefix accounts are separate)", len(users))
		}
		return nil
	})
}

func testUserNames(t *testing.T, s kms.Store) {
	update(t, s, func(tx kms.Tx) error { return tx.PutUser(newUser(account1, "1", "dup", 0)) })
	err := s.Update(context.Background(), func(tx kms.Tx) error { return tx.PutUser(newUser(account1, "2", "dup", 0)) })
	if !errors.Is(err, kms.ErrUserExists) {
		t.Errorf("PutUser with a taken name = %v, want ErrUserExists", err)
	}
	update(t, s, func(tx kms.Tx) error { return tx.PutUser(newUser(account2, "3", "dup", 0)) })
	update(t, s, func(tx kms.Tx) error { return tx.PutUser(newUser(account1, "1", "dup", 0)) }) // replace itself
}

func newPolicy(account string, id uint64, name string) *kms.Policy {
	return &kms.Policy{Account: account, ID: id, Name: name, Description: "d", Document: `{"version":"2.0"}`, CreateTime: at(int(id))}
}

func testPolicies(t *testing.T, s kms.Store) {
	update(t, s, func(tx kms.Tx) error {
		for _, p := range []*kms.Policy{newPolicy(account1, 300, "c"), newPolicy(account1, 2, "a"), newPolicy(account3, 1, "x")} {
			if err := tx.PutPolicy(p); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx kms.Tx) error {
		p, err := tx.Policy(account1, 300)
		if err != nil || p.Name != "c" || p.Document != `{"version":"2.0"}` || !p.CreateTime.Equal(at(300)) {
			t.Errorf("Policy = %+v, %v", p, err)
		}
		ps, err := tx.Policies(account1)
		if err != nil || len(ps) != 2 || ps[0].ID != 2 || ps[1].ID != 300 {
			t.Errorf("Policies = %+v, %v; want ids 2, 300", ps, err)
		}
		if _, err := tx.Policy(account2, 300); !errors.Is(err, kms.ErrPolicyNotFound) {
			t.Errorf("Policy of another account = %v, want ErrPolicyNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx kms.Tx) error { return tx.DeletePolicy(account1, 2) })
	if err := s.Update(context.Background(), func(tx kms.Tx) error { return tx.DeletePolicy(account1, 2) }); !errors.Is(err, kms.ErrPolicyNotFound) {
		t.Errorf("DeletePolicy twice = %v, want ErrPolicyNotFound", err)
	}
}

func testPolicyNames(t *testing.T, s kms.Store) {
	update(t, s, func(tx kms.Tx) error { return tx.PutPolicy(newPolicy(account1, 1, "p")) })
	err := s.Update(context.Background(), func(tx kms.Tx) error { return tx.PutPolicy(newPolicy(account1, 2, "p")) })
	if !errors.Is(err, kms.ErrPolicyExists) {
		t.Errorf("PutPolicy with a taken name = %v, want ErrPolicyExists", err)
	}
	update(t, s, func(tx kms.Tx) error { return tx.PutPolicy(newPolicy(account2, 2, "p")) })
}

func testAccessKeysOfUser(t *testing.T, s kms.Store) {
	mk := func(id, user string, m int) *kms.AccessKey {
		ak := newAccessKey(id, account1)
		ak.User, ak.CreateTime = user, at(m)
		return ak
	}
	update(t, s, func(tx kms.Tx) error {
		for _, ak := range []*kms.AccessKey{mk("AKID3", "u1", 3), mk("AKID1", "u1", 1), mk("AKID2", "u2", 2)} {
			if err := tx.PutAccessKey(ak); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx kms.Tx) error {
		keys, err := tx.AccessKeys("u1")
		if err != nil || len(keys) != 2 || keys[0].SecretID != "AKID1" || keys[1].SecretID != "AKID3" {
			t.Errorf("AccessKeys(u1) = %+v, %v; want AKID1, AKID3", keys, err)
		}
		return nil
	})
	update(t, s, func(tx kms.Tx) error { return tx.DeleteAccessKey("AKID1") })
	if err := s.Update(context.Background(), func(tx kms.Tx) error { return tx.DeleteAccessKey("AKID1") }); !errors.Is(err, kms.ErrAccessKeyNotFound) {
		t.Errorf("DeleteAccessKey twice = %v, want ErrAccessKeyNotFound", err)
	}
	view(t, s, func(tx kms.Tx) error {
		if _, err := tx.AccessKey("AKID1"); !errors.Is(err, kms.ErrAccessKeyNotFound) {
			t.Errorf("AccessKey after delete = %v", err)
		}
		return nil
	})
}
