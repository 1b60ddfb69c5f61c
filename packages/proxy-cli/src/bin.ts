console.log('proxy-cli');
