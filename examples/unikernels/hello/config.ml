(* mirage >= 4.11.0 & < 4.12.0 *)
open Mirage

let main = main ~local_libs:[ "greeting" ] "Unikernel" job ~packages:[ package "duration" ]
let () = register "hello" [ main ]
