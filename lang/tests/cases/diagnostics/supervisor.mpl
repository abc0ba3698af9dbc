supervisor Sup do
  strategy: all_at_once
  max_restarts: -1
  colour: red
  child w do
    restart: sometimes
  end
end
