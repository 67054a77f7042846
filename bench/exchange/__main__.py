from bench.exchange.run import main

main()
