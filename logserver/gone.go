package logserver

import (
	"errors"

	"github.com/keelvm/keel/logserver/store"
)

func isGone(err error) bool {
	return errors.Is(err, store.ErrStreamNotFound) || errors.Is(err, store.ErrGroupNotFound)
}
