package clientcmd

import (
	"github.com/heartbeat/heartbeat/internal/diagram"
	"github.com/heartbeat/heartbeat/internal/web"
)

// newPicture is what --web's page draws: the sequence diagram, with the
// running timers the page animates.
func newPicture() web.Picture { return diagram.New(diagram.Options{Live: true}) }
