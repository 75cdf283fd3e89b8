// A tiny vcsim for the citrix_community.ips lab, built offline by `make setup` in GOPATH mode
// against Debian's golang-github-vmware-govmomi-dev (which ships the simulator package but not
// the vcsim command).
//
//	vcsim -l 127.0.0.1:PORT -u USER      (password from $IPS_LAB_VCSIM_PASSWORD)
//
// It serves a vCenter (VPX) model, its VMs powered off, over HTTPS on the given loopback address only, prints
// "READY https://HOST:PORT/sdk" (never the password), and on SIGTERM or SIGINT closes the
// server and removes the model's datastore folders.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:8989", "listen address, loopback host:port")
	user := flag.String("u", "user", "user name clients log in with")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("bad listen address %q: %v", *listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("refusing to listen on %q: loopback addresses only", host)
	}
	password := os.Getenv("IPS_LAB_VCSIM_PASSWORD")
	if password == "" {
		log.Fatal("IPS_LAB_VCSIM_PASSWORD is not set")
	}

	model := simulator.VPX()
	// The service exports a VM's disk only while the VM is powered off (or from a snapshot): the seeded
	// VMs start powered off, so a first export written by hand works.
	model.Autostart = false
	if err := model.Create(); err != nil {
		log.Fatalf("creating the model: %v", err)
	}
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, password)}
	model.Service.TLS = new(tls.Config)
	// A certificate from the lab's own CA when the launcher gives one (clients can then trust it with the CA or its
	// SHA-1 fingerprint); without it, the simulator's built-in self-signed one.
	if certFile, keyFile := os.Getenv("IPS_LAB_VCSIM_TLS_CERT"), os.Getenv("IPS_LAB_VCSIM_TLS_KEY"); certFile != "" && keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			log.Fatalf("loading the TLS certificate: %v", err)
		}
		model.Service.TLS.Certificates = []tls.Certificate{pair}
	}
	server := model.Service.NewServer()

	fmt.Printf("READY https://%s/sdk\n", server.URL.Host)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	got := <-signals
	fmt.Printf("vcsim: %s, stopping\n", got)
	server.Close()
	model.Remove()
}
