-- wrk script: text turns of many concurrent calls, as a CTI sends them.
-- Each request is the next utterance of one of 1,000 calls; the utterances keep the
-- sample flow at its asking steps (card loss / progress → menu), so every request is a
-- full turn: decoding, NLU, dialog, cached audio, transcript write. The same list is
-- UTTERANCES in bench/run.py.
local utterances = {
  "%E6%88%91%E7%9A%84%E5%8C%BB%E4%BF%9D%E5%8D%A1%E4%B8%A2%E4%BA%86",  -- 我的医保卡丢了,
  "%E6%88%91%E6%83%B3%E6%9F%A5%E4%B8%80%E4%B8%8B%E6%8A%A5%E9%94%80%E8%BF%9B%E5%BA%A6",  -- 我想查一下报销进度,
  "%E5%8C%BB%E4%BF%9D%E5%8D%A1%E6%8C%82%E5%A4%B1",  -- 医保卡挂失,
  "%E6%8A%A5%E9%94%80%E7%9A%84%E9%92%B1%E4%BB%80%E4%B9%88%E6%97%B6%E5%80%99%E5%88%B0%E8%B4%A6",  -- 报销的钱什么时候到账,
  "%E5%96%82%E4%BD%A0%E5%A5%BD%EF%BC%8C%E6%88%91%E7%A4%BE%E4%BF%9D%E5%8D%A1%E6%89%BE%E4%B8%8D%E5%88%B0%E4%BA%86%EF%BC%8C%E8%A6%81%E6%80%8E%E4%B9%88%E6%8C%82%E5%A4%B1%E5%95%8A",  -- 喂你好，我社保卡找不到了，要怎么挂失啊,
  "%E5%B8%AE%E6%88%91%E7%9C%8B%E7%9C%8B%E4%B8%8A%E4%B8%AA%E6%9C%88%E4%BD%8F%E9%99%A2%E6%8A%A5%E9%94%80%E5%8A%9E%E5%BE%97%E6%80%8E%E4%B9%88%E6%A0%B7%E4%BA%86",  -- 帮我看看上个月住院报销办得怎么样了,
  "%E5%8D%A1%E4%B8%A2%E4%BA%86",  -- 卡丢了,
  "%E6%9F%A5%E6%8A%A5%E9%94%80",  -- 查报销,
  "%E9%82%A3%E4%B8%AA%EF%BC%8C%E6%88%91%E6%83%B3%E9%97%AE%E4%B8%80%E4%B8%8B%E6%88%91%E7%9A%84%E6%8A%A5%E9%94%80%E5%AE%A1%E6%A0%B8%E9%80%9A%E8%BF%87%E4%BA%86%E6%B2%A1%E6%9C%89",  -- 那个，我想问一下我的报销审核通过了没有,
  "%E6%88%91%E5%A6%88%E7%9A%84%E5%8C%BB%E4%BF%9D%E5%8D%A1%E8%A2%AB%E5%81%B7%E4%BA%86",  -- 我妈的医保卡被偷了,
  "%E6%8A%A5%E6%95%88%E8%BF%9B%E5%BA%A6%E6%9F%A5%E4%B8%80%E4%B8%8B",  -- 报效进度查一下,
  "%E5%8C%BB%E7%96%97%E5%8D%A1%E6%8E%89%E4%BA%86%E5%B8%AE%E6%88%91%E8%A1%A5%E5%8A%9E%E4%B8%80%E4%B8%8B",  -- 医疗卡掉了帮我补办一下
}
local n = 0
request = function()
  n = n + 1
  local path = string.format("/cti/ai?telnum=13800138000&callid=bench-%d&txt=%s",
                             n % 1000, utterances[(n % #utterances) + 1])
  return wrk.format("GET", path)
end
