(* mirage >= 4.11.0 & < 4.12.0 *)
open Mirage

(* The build output of "web", embedded in the unikernel (crunch on unikernel targets). *)
let data = generic_kv_ro "../../apps/web/dist"
let stack = generic_stackv4v6 default_network
let main = main "Unikernel.Main" (kv_ro @-> stackv4v6 @-> job)
let () = register "site" [ main $ data $ stack ]
