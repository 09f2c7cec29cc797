// A panic in a goroutine other than main's ("created by"), and a nil map
// write that fails with a runtime error.
package main

import (
	"fmt"
	"sync"
)

type server struct{ routes map[string]int }

func (s *server) add(path string) { s.routes[path]++ }

func main() {
	fmt.Println("serving")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var s server
		s.add("/")
	}()
	wg.Wait()
}
