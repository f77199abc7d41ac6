// Command ferretdb runs FerretDB (a MongoDB wire-protocol server) with its SQLite backend, for the engine's
// tests against a real MongoDB protocol peer. It imports FerretDB as a library because a plain
// `go install` of FerretDB's own command needs a generated version file that the module does not ship.
//
// Usage: ferretdb -listen 127.0.0.1:27018 -state-dir /tmp/ferretdb
package main

import (
	"context"
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address to listen on")
	stateDir := flag.String("state-dir", "", "directory for the SQLite databases (required)")
	flag.Parse()

	if *stateDir == "" {
		log.Fatal("-state-dir is required")
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		log.Fatal(err)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}

	// FerretDB wants the SQLite URL to name a directory, with a trailing slash.
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("FerretDB (sqlite %s) listening on %s", sqliteURL, *listen)
	if err = f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
