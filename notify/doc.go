// Package notify holds the built-in alert notifiers (core.Notifier
// implementations), one package per transport: webhook posts JSON over
// HTTP. core imports none of them; cmd wires them from flags and the
// environment.
package notify
