print("rnn")
