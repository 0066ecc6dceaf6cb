-- wrk script: text turns of many concurrent calls, as a CTI sends them.
-- Each request is the next utterance of one of 1,000 calls; the utterances keep the
-- sample flow's calls going (see UTTERANCES in bench/run.py, the same list), so every
-- request is a full turn: decoding, NLU, slots, dialog, lookups, cached audio,
-- transcript write.
local utterances = {
  "%E6%9F%A5%E4%B8%80%E4%B8%8B%E8%BA%AB%E4%BB%BD%E8%AF%8111010519491231002X%E7%9A%84%E6%8A%A5%E9%94%80%E8%BF%9B%E5%BA%A6",  -- 查一下身份证11010519491231002X的报销进度
  "%E6%88%91%E7%9A%84%E5%8C%BB%E4%BF%9D%E5%8D%A1%E4%B8%A2%E4%BA%86%EF%BC%8C%E6%89%8B%E6%9C%BA%E5%8F%B7%E5%B9%BA%E4%B8%89%E5%85%AB%E5%B9%BA%E4%BA%8C%E4%B8%89%E5%9B%9B%E4%BA%94%E5%85%AD%E4%B8%83%E5%85%AB",  -- 我的医保卡丢了，手机号幺三八幺二三四五六七八
  "%E5%B8%AE%E6%88%91%E6%9F%A5%E6%8A%A5%E9%94%80%E8%BF%9B%E5%BA%A6%EF%BC%8C%E8%BA%AB%E4%BB%BD%E8%AF%81%E5%8F%B7%E4%B8%89%E4%BA%8C%E9%9B%B6%E4%B8%80%E9%9B%B6%E4%BA%8C%E4%B8%80%E4%B9%9D%E4%B9%9D%E9%9B%B6%E9%9B%B6%E4%B8%80%E9%9B%B6%E4%B8%80%E4%B8%80%E4%BA%8C%E4%B8%89%E4%BA%8C",  -- 帮我查报销进度，身份证号三二零一零二一九九零零一零一一二三二
  "%E5%8C%BB%E4%BF%9D%E5%8D%A1%E6%8C%82%E5%A4%B1%EF%BC%8C%E7%94%B5%E8%AF%9D13912345678",  -- 医保卡挂失，电话13912345678
  "%E5%AF%B9",  -- 对
  "%E5%AF%B9%E7%9A%84",  -- 对的
  "%E6%98%AF%E7%9A%84",  -- 是的
  "%E6%B2%A1%E9%94%99",  -- 没错
  "%E4%BD%A0%E4%BB%AC%E5%87%A0%E7%82%B9%E4%B8%8B%E7%8F%AD",  -- 你们几点下班
  "%E5%87%A0%E7%82%B9%E4%B8%8A%E7%8F%AD%E5%95%8A",  -- 几点上班啊
  "%E6%9C%8D%E5%8A%A1%E6%97%B6%E9%97%B4%E6%98%AF%E4%BB%80%E4%B9%88%E6%97%B6%E5%80%99",  -- 服务时间是什么时候
  "%E5%91%A8%E6%9C%AB%E4%B8%8A%E7%8F%AD%E5%90%97",  -- 周末上班吗
}
local n = 0
request = function()
  n = n + 1
  local path = string.format("/cti/ai?telnum=13800138000&callid=bench-%d&txt=%s",
                             n % 1000, utterances[(n % #utterances) + 1])
  return wrk.format("GET", path)
end
