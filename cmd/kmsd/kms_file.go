package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kmsd/kmsd/internal/envelope"
)

// encryptFile seals IN into OUT under a fresh data key of --key: one
// CreateDatakey call, then local AES-256-GCM or SM4-GCM in chunks.
func encryptFile(e *kmsEnv, a []string) error {
	if e.o.key == "" {
		return usageErr(errors.New("encrypt-file: --key is required"))
	}
	c, err := envelope.ParseCipher(e.o.sealAlg)
	if err != nil {
		return usageErr(err)
	}
	in, size, err := openInput(e, a[0])
	if err != nil {
		return err
	}
	defer in.Close()
	dk, err := e.c.CreateDataKey(e.ctx, e.o.key, 8*envelope.DataKeySize)
	if err != nil {
		return err
	}
	defer clear(dk.Plaintext)
	wrapped, err := hex.DecodeString(dk.Ciphertext)
	if err != nil {
		return fmt.Errorf("create-datakey answered a cipher_text that is not hex: %w", err)
	}
	h := &envelope.Header{Cipher: c, KeyID: dk.KeyID, WrappedKey: wrapped}
	if h.KeyID == "" {
		h.KeyID = e.o.key
	}
	if _, err := rand.Read(h.Salt[:]); err != nil {
		return err
	}
	return writeOutput(e, a[1], func(w io.Writer) error {
		ew, err := envelope.NewWriter(w, h, dk.Plaintext)
		if err != nil {
			return err
		}
		if _, err := io.Copy(ew, e.progress(in, size, "encrypt")); err != nil {
			return err
		}
		return ew.Close()
	})
}

// decryptFile opens an envelope: the CMK id and wrapped data key come
// from its header, so only the connection settings are needed.
func decryptFile(e *kmsEnv, a []string) error {
	in, size, err := openInput(e, a[0])
	if err != nil {
		return err
	}
	defer in.Close()
	r, h, err := envelope.NewReader(e.progress(in, size, "decrypt"), func(h *envelope.Header) ([]byte, error) {
		return e.c.DecryptDataKey(e.ctx, h.KeyID, hex.EncodeToString(h.WrappedKey), envelope.DataKeySize)
	})
	if err != nil {
		if errors.Is(err, envelope.ErrFormat) {
			return usageErr(fmt.Errorf("%s: %w", a[0], err))
		}
		if h != nil {
			return fmt.Errorf("open the data key of %s under key %s: %w", a[0], h.KeyID, err)
		}
		return err
	}
	err = writeOutput(e, a[1], func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
	if errors.Is(err, envelope.ErrAuth) {
		return fmt.Errorf("%w: %s: %w", errInvalid, a[0], err)
	}
	return err
}

// openInput opens IN ("-": stdin) and returns its size when known.
func openInput(e *kmsEnv, name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(e.stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, usageErr(err)
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, nil
}

// writeOutput runs write on OUT ("-": stdout). A file is written under a
// temporary name beside OUT and renamed only when write succeeded, so a
// failed or tampered decryption leaves no partial plaintext behind.
func writeOutput(e *kmsEnv, name string, write func(io.Writer) error) error {
	if name == "-" {
		return write(e.stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".kmsd-*")
	if err != nil {
		return usageErr(err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if !e.json {
		fmt.Fprintf(e.stderr, "wrote %s\n", name)
	}
	return nil
}
