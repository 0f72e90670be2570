package kms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keyhaven/keyhaven/kms"
)

// TestStateTable checks every cell of docs/states.md: each action in each
// state either succeeds (leading to the given state) or fails with the given
// error and changes nothing.
func TestStateTable(t *testing.T) {
	ctx := context.Background()
	states := []kms.KeyState{kms.StateEnabled, kms.StateDisabled, kms.StateArchived, kms.StatePendingDelete, kms.StatePendingImport, kms.StateDeleted}
	type cell struct {
		err  error        // nil: allowed
		then kms.KeyState // the state after an allowed action ("" = unchanged)
	}
	ok := func(then kms.KeyState) cell { return cell{then: then} }
	same := cell{}
	fail := func(err error) cell { return cell{err: err} }
	var (
		disabled      = fail(kms.ErrKeyDisabled)
		archived      = fail(kms.ErrKeyArchived)
		pendingDelete = fail(kms.ErrKeyPendingDelete)
		notSupported  = fail(kms.ErrInvalidKeyState)
		gone          = fail(kms.ErrKeyDeleted)
	)
	type env struct {
		id   string
		blob []byte
	}
	actions := []struct {
		name  string
		do    func(svc *kms.Service, e env) error
		cells []cell // in the order of states
	}{
		{"Encrypt", func(svc *kms.Service, e env) error {
			_, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: e.id, Plaintext: []byte("x")})
			return err
		}, []cell{same, disabled, archived, pendingDelete, notSupported, gone}},
		{"GenerateDataKey", func(svc *kms.Service, e env) error {
			_, err := svc.GenerateDataKey(ctx, kms.GenerateDataKeyInput{Account: account, KeyID: e.id, Bytes: 32})
			return err
		}, []cell{same, disabled, archived, pendingDelete, notSupported, gone}},
		{"Decrypt", func(svc *kms.Service, e env) error {
			_, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: e.blob})
			return err
		}, []cell{same, disabled, same, pendingDelete, notSupported, gone}},
		{"EnableKeys", func(svc *kms.Service, e env) error { return svc.EnableKeys(ctx, account, []string{e.id}) },
			[]cell{same, ok(kms.StateEnabled), archived, pendingDelete, notSupported, gone}},
		{"DisableKeys", func(svc *kms.Service, e env) error { return svc.DisableKeys(ctx, account, []string{e.id}) },
			[]cell{ok(kms.StateDisabled), same, archived, pendingDelete, notSupported, gone}},
		{"ArchiveKey", func(svc *kms.Service, e env) error { return svc.ArchiveKey(ctx, account, e.id) },
			[]cell{ok(kms.StateArchived), disabled, same, pendingDelete, notSupported, gone}},
		{"CancelKeyArchive", func(svc *kms.Service, e env) error { return svc.CancelKeyArchive(ctx, account, e.id) },
			[]cell{notSupported, notSupported, ok(kms.StateEnabled), notSupported, notSupported, gone}},
		{"ScheduleKeyDeletion", func(svc *kms.Service, e env) error {
			_, err := svc.ScheduleKeyDeletion(ctx, account, e.id, 7)
			return err
		}, []cell{fail(kms.ErrShouldBeDisabled), ok(kms.StatePendingDelete), fail(kms.ErrShouldBeDisabled), pendingDelete, ok(kms.StatePendingDelete), gone}},
		{"CancelKeyDeletion", func(svc *kms.Service, e env) error { return svc.CancelKeyDeletion(ctx, account, e.id) },
			[]cell{fail(kms.ErrNotPendingDelete), fail(kms.ErrNotPendingDelete), fail(kms.ErrNotPendingDelete), ok(kms.StateDisabled), fail(kms.ErrNotPendingDelete), gone}},
		{"EnableKeyRotation", func(svc *kms.Service, e env) error { return svc.EnableKeyRotation(ctx, account, e.id, 0) },
			[]cell{same, same, archived, pendingDelete, notSupported, gone}},
		{"DisableKeyRotation", func(svc *kms.Service, e env) error { return svc.DisableKeyRotation(ctx, account, e.id) },
			[]cell{same, same, archived, pendingDelete, notSupported, gone}},
		{"RotateKey", func(svc *kms.Service, e env) error {
			_, err := svc.RotateKey(ctx, account, e.id)
			return err
		}, []cell{same, disabled, archived, pendingDelete, notSupported, gone}},
		{"UpdateAlias", func(svc *kms.Service, e env) error { return svc.UpdateAlias(ctx, account, e.id, "renamed-"+e.id[:8]) },
			[]cell{same, same, same, same, same, gone}},
		{"UpdateDescription", func(svc *kms.Service, e env) error { return svc.UpdateDescription(ctx, account, e.id, "d") },
			[]cell{same, same, same, same, same, gone}},
		{"DescribeKey", func(svc *kms.Service, e env) error {
			_, err := svc.DescribeKey(ctx, account, e.id)
			return err
		}, []cell{same, same, same, same, same, gone}},
	}
	maker, st := newServiceStore(t)
	for _, a := range actions {
		for i, state := range states {
			want := a.cells[i]
			t.Run(a.name+"/"+string(state), func(t *testing.T) {
				k := mustCreate(t, maker, kms.CreateKeyInput{})
				blob, err := maker.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("x")})
				if err != nil {
					t.Fatal(err)
				}
				setState(t, st, k.ID, state)
				svc := serviceOn(t, st) // a fresh cache that sees the state
				err = a.do(svc, env{id: k.ID, blob: blob})
				after := stateOf(t, st, k.ID)
				switch {
				case want.err != nil && !errors.Is(err, want.err):
					t.Errorf("%s in %s = %v, want %v", a.name, state, err, want.err)
				case want.err != nil && after != state:
					t.Errorf("%s in %s failed but moved the key to %s", a.name, state, after)
				case want.err == nil && err != nil:
					t.Errorf("%s in %s = %v, want success", a.name, state, err)
				case want.err == nil && want.then == "" && after != state:
					t.Errorf("%s in %s moved the key to %s, want no change", a.name, state, after)
				case want.err == nil && want.then != "" && after != want.then:
					t.Errorf("%s in %s left the key %s, want %s", a.name, state, after, want.then)
				}
			})
		}
	}
}

func setState(t *testing.T, st kms.Store, id string, state kms.KeyState) {
	t.Helper()
	err := st.Update(context.Background(), func(tx kms.Tx) error {
		k, err := tx.Key(id)
		if err != nil {
			return err
		}
		k.State = state
		return tx.PutKey(k)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stateOf(t *testing.T, st kms.Store, id string) kms.KeyState {
	t.Helper()
	var state kms.KeyState
	err := st.View(context.Background(), func(tx kms.Tx) error {
		k, err := tx.Key(id)
		if err == nil {
			state = k.State
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}
