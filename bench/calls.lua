-- wrk script: replays the callbacks of generated calls (bench/calls_saturation.py writes
-- them, one request path a line, from bench/calls_script.py's scripts), in order and
-- without pacing. The lines interleave many calls round robin, so a call's next callback
-- comes hundreds of requests after its previous one, which has been answered by then.
-- Arguments after `--`: the file, and a tag put in front of every call id so that no two
-- runs against one server share a call; past the file's end it starts again with new
-- call ids (the tag and a cycle number).
local heads, tails = {}, {}
local count, n, cycle = 0, 0, 0
local tag = "s"

function init(args)
  tag = args[2] or tag
  for line in io.lines(args[1]) do
    local head, tail = line:match("^(.-callid=)(.*)$")
    count = count + 1
    heads[count], tails[count] = head, tail
  end
end

function request()
  n = n + 1
  if n > count then
    n, cycle = 1, cycle + 1
  end
  return wrk.format("GET", heads[n] .. tag .. cycle .. "-" .. tails[n])
end
