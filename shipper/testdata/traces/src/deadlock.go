// A fatal error (not a panic): all goroutines are asleep.
package main

func main() {
	ch := make(chan int)
	<-ch
}
