module dashboard/bench/peers/goserver

go 1.19
