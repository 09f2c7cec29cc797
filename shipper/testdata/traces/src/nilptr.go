// A nil pointer dereference: "[signal SIGSEGV ...]" after the panic line.
package main

type config struct{ port int }

func port(c *config) int { return c.port }

func main() { println(port(nil)) }
