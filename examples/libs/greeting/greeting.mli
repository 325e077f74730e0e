val greeting : string -> string
(** [greeting who] is a greeting for [who]. *)
