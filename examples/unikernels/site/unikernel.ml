open Lwt.Infix
open Cmdliner

(* A runtime argument: given when the unikernel boots, not to mirage configure. *)
let port =
  let doc = Arg.info ~doc:"The TCP port on which to serve HTTP." [ "port" ] in
  Mirage_runtime.register_arg Arg.(value & opt int 8080 doc)

let content_type path =
  match Filename.extension path with
  | ".html" | ".htm" -> "text/html; charset=utf-8"
  | ".css" -> "text/css"
  | ".js" | ".mjs" -> "text/javascript"
  | ".json" -> "application/json"
  | ".svg" -> "image/svg+xml"
  | ".png" -> "image/png"
  | ".ico" -> "image/x-icon"
  | _ -> "application/octet-stream"

(* "GET /path?query HTTP/1.1" -> "/path" *)
let request_path request =
  match String.split_on_char ' ' (List.hd (String.split_on_char '\r' request)) with
  | _meth :: target :: _ -> List.hd (String.split_on_char '?' target)
  | _ -> "/"

module Main (Data : Mirage_kv.RO) (S : Tcpip.Stack.V4V6) = struct
  let respond flow status ctype body =
    let head =
      Printf.sprintf "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        status ctype (String.length body)
    in
    S.TCP.write flow (Cstruct.of_string (head ^ body)) >>= fun _ -> S.TCP.close flow

  let start data s =
    S.TCP.listen (S.tcp s) ~port:(port ()) (fun flow ->
        S.TCP.read flow >>= function
        | Ok (`Data b) -> (
            let path = request_path (Cstruct.to_string b) in
            let file = if path = "/" || path = "" then "/index.html" else path in
            Data.get data (Mirage_kv.Key.v file) >>= function
            | Ok body -> respond flow "200 OK" (content_type file) body
            | Error _ -> respond flow "404 Not Found" "text/plain" "not found\n")
        | Ok `Eof | Error _ -> S.TCP.close flow);
    S.listen s
end
