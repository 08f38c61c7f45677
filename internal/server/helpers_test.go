package server_test

import (
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
)

func kmsInput(ids server.DevIdentities, alias string) kms.CreateKeyInput {
	return kms.CreateKeyInput{ProjectID: ids.ProjectID, AccountID: ids.AccountID, Alias: alias}
}
