-- wrk script: text turns of many concurrent calls, as a CTI sends them.
-- Each request is the next utterance of one of 1,000 calls; the utterances keep the
-- sample flow at its asking steps (card loss / progress → menu), so every request is a
-- full turn: decoding, NLU, dialog, cached audio, transcript write.
local utterances = {
  "%E6%88%91%E7%9A%84%E5%8C%BB%E4%BF%9D%E5%8D%A1%E4%B8%A2%E4%BA%86",          -- 我的医保卡丢了
  "%E6%88%91%E6%83%B3%E6%9F%A5%E4%B8%80%E4%B8%8B%E6%8A%A5%E9%94%80%E8%BF%9B%E5%BA%A6", -- 我想查一下报销进度
  "%E5%8C%BB%E4%BF%9D%E5%8D%A1%E6%8C%82%E5%A4%B1",                          -- 医保卡挂失
  "%E6%8A%A5%E9%94%80%E7%9A%84%E9%92%B1%E4%BB%80%E4%B9%88%E6%97%B6%E5%80%99%E5%88%B0%E8%B4%A6", -- 报销的钱什么时候到账
}
local n = 0
request = function()
  n = n + 1
  local path = string.format("/cti/ai?telnum=13800138000&callid=bench-%d&txt=%s",
                             n % 1000, utterances[(n % #utterances) + 1])
  return wrk.format("GET", path)
end
