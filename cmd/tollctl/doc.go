// Command tollctl administers a Tollgate cluster through control's API.
package main
